// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Testing

@Suite("Waiters and ChangeSignal")
struct WaitersTests {
    private struct Gate {
        var open = false
        var waiters = Waiters()
    }

    /// A lock shared by the tasks of a test.
    private final class Shared: Sendable {
        let gate: Lock<Gate>

        init(open: Bool = false) {
            self.gate = Lock(Gate(open: open))
        }
    }

    @Test("a task waits until the condition holds and whoever makes it hold resumes it")
    func waitsForTheCondition() async {
        let shared = Shared()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await shared.gate.wait(in: \.waiters) { $0.open } }
            // Wait until the task has joined the list, then open the gate.
            while shared.gate.withLock({ $0.waiters.isEmpty }) { await Task.yield() }
            let waiters = shared.gate.withLock { gate in
                gate.open = true
                return gate.waiters.removeAll()
            }
            waiters.resume()
            await group.waitForAll()
        }
        #expect(shared.gate.withLock { $0.waiters.isEmpty })
    }

    @Test("a task whose condition already holds does not wait")
    func returnsAtOnce() async {
        let shared = Shared(open: true)
        await shared.gate.wait(in: \.waiters) { $0.open }
        #expect(shared.gate.withLock { $0.waiters.isEmpty })
    }

    @Test("a cancelled waiter returns and leaves the list")
    func cancellationEndsTheWait() async {
        let shared = Shared()
        let waiting = Task { await shared.gate.wait(in: \.waiters) { $0.open } }
        while shared.gate.withLock({ $0.waiters.isEmpty }) { await Task.yield() }
        waiting.cancel()
        await waiting.value
        #expect(shared.gate.withLock { $0.waiters.isEmpty })
    }

    @Test("ChangeSignal: a wait after the current generation returns once the signal moves, and at once after it")
    func changeSignal() async {
        let signal = ChangeSignal()
        let generation = signal.generation
        async let waited: Void = signal.wait(after: generation)
        signal.signal()
        await waited
        await signal.wait(after: generation)
        #expect(signal.generation == generation + 1)
    }
}
