// SPDX-License-Identifier: Apache-2.0

extension RegistrationWatchdog {
    /// Where a ``RegistrationWatchdog`` is: whether the instance is healthy, and whether it is registered.
    ///
    /// A struct rather than an enum so that new states can be added without breaking exhaustive `switch`es.
    public struct State: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case starting
            case registered
            case registrationFailed
            case unhealthy
            case stopping
            case stopped
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// No verdict yet: no check has passed, and fewer than the threshold have failed. Not registered.
        public static let starting = State(.starting)
        /// The last check passed and the instance is registered.
        public static let registered = State(.registered)
        /// The last check passed but registering failed (the registry could not be reached); retried with backoff.
        public static let registrationFailed = State(.registrationFailed)
        /// The threshold of consecutive failed checks was reached: the instance is not registered (it was
        /// withdrawn if it had been).
        public static let unhealthy = State(.unhealthy)
        /// Graceful shutdown or cancellation: the registration is withdrawn; waiting out the drain delay.
        public static let stopping = State(.stopping)
        /// ``RegistrationWatchdog/run()`` has returned.
        public static let stopped = State(.stopped)

        /// Whether the instance is registered in this state.
        public var isRegistered: Bool { self.base == .registered }

        /// The state's name, such as `registered`.
        public var description: String { self.base.rawValue }
    }
}
