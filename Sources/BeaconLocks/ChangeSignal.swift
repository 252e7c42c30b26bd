// SPDX-License-Identifier: Apache-2.0

/// A generation counter that tasks can wait on: the in-process sources bump it on every change and their watches
/// wait for it to move; a pool or a container that closes signals it once, and its waiting tasks return.
package final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters = Waiters()
    }

    private let state = Lock(State())

    /// Creates a signal at generation 0.
    package init() {}

    /// The number of changes announced so far.
    package var generation: UInt64 { self.state.withLock { $0.generation } }

    /// Announces a change and wakes every waiting task.
    package func signal() {
        let waiters = self.state.withLock { state in
            state.generation += 1
            return state.waiters.removeAll()
        }
        waiters.resume()
    }

    /// Waits until the generation is above `generation`, or the calling task is cancelled.
    package func wait(after generation: UInt64) async {
        await self.state.wait(in: \.waiters) { $0.generation > generation }
    }

    /// Waits until the calling task is cancelled.
    package static func waitUntilCancelled() async {
        await ChangeSignal().wait(after: 0)
    }

    /// Waits until the generation is above `generation`, `timeout` has passed, or the task is cancelled.
    package func wait(after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
