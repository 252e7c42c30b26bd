// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// A generation counter that tasks can wait on: the in-process sources bump it on every change, and
/// their watches wait for it to move. Shared with the other modules of the package (a dynamic memcached pool
/// announces server-list reads with it).
package final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
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
            let waiters = state.waiters
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Waits until the generation is above `generation`, or the calling task is cancelled.
    package func wait(after generation: UInt64) async {
        let id = self.state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    // Checked under the lock: a cancellation handler that already ran found no waiter to
                    // resume, and `Task.isCancelled` is set before the handler runs.
                    if state.generation > generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Waits until the calling task is cancelled.
    static func waitUntilCancelled() async {
        await ChangeSignal().wait(after: 0)
    }

    /// Waits until the generation is above `generation`, `timeout` has passed, or the task is cancelled.
    func wait(after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}

extension DiscoveryWatch {
    /// A watch over an in-process source that announces its changes through `signal`.
    ///
    /// Each subscription emits the current snapshot first, then a new snapshot whenever the snapshot of
    /// the prefix differs from the last one emitted (so a change elsewhere in the source emits nothing).
    /// With `poll`, the subscription also calls `poll.refresh` at least every `poll.interval`, for sources
    /// that must look for changes themselves (a file).
    static func following(
        prefix: String,
        signal: ChangeSignal,
        poll: (interval: Duration, refresh: @Sendable () -> Void)? = nil,
        snapshot: @escaping @Sendable (String) -> DiscoverySnapshot
    ) -> DiscoveryWatch {
        DiscoveryWatch {
            var lastEmitted: DiscoverySnapshot?
            return {
                while !Task.isCancelled {
                    poll?.refresh()
                    // Read the generation before the snapshot: a change in between makes the wait return at once.
                    let generation = signal.generation
                    let current = snapshot(prefix)
                    if current != lastEmitted {
                        lastEmitted = current
                        return current
                    }
                    if let poll {
                        await signal.wait(after: generation, timeout: poll.interval)
                    } else {
                        await signal.wait(after: generation)
                    }
                }
                return nil
            }
        }
    }
}
