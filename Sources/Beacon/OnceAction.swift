// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// An asynchronous action that runs at most once, however many tasks ask for it: the `cancel()` of the handles that
/// registries and key stores return (``ServiceRegistration``, ``EphemeralKey``).
package final class OnceAction: Sendable {
    private let action: Lock<(@Sendable () async -> Void)?>

    /// Creates the action, not yet run.
    package init(_ action: @escaping @Sendable () async -> Void) {
        self.action = Lock(action)
    }

    /// `true` once ``run()`` has been called.
    package var hasRun: Bool { self.action.withLock { $0 == nil } }

    /// Runs the action on the first call; later and concurrent calls return at once.
    package func run() async {
        let action = self.action.withLock { stored in
            defer { stored = nil }
            return stored
        }
        await action?()
    }
}
