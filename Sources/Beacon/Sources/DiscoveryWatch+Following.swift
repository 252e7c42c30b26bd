// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

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
