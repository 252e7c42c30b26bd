// SPDX-License-Identifier: Apache-2.0

extension Confd {
    /// How ``Confd`` keeps its resources up to date.
    public struct Configuration: Sendable, Hashable {
        /// When resources are rendered.
        ///
        /// A struct with static members rather than an enum, so that a mode can be added without breaking
        /// exhaustive `switch`es.
        public struct Mode: Sendable, Hashable, CustomStringConvertible {
            enum Base: Hashable {
                case onetime
                case interval(Duration)
                case watch
            }

            let base: Base

            /// Once, then ``Confd/run()`` returns (confd's `-onetime`).
            public static let onetime = Mode(base: .onetime)

            /// Whenever a watched key changes, after ``Configuration/debounce`` (confd's `-watch`, without polling).
            public static let watch = Mode(base: .watch)

            /// Every interval, reading every key again (confd's default, with `-interval` in seconds).
            ///
            /// - Parameter interval: The time between two renders.
            /// - Returns: The mode.
            public static func interval(_ interval: Duration) -> Mode { Mode(base: .interval(interval)) }

            /// `onetime`, `watch`, or `every 600.0 seconds`.
            public var description: String {
                switch self.base {
                case .onetime: "onetime"
                case .watch: "watch"
                case .interval(let interval): "every \(interval)"
                }
            }
        }

        /// When resources are rendered; the default is confd's: every 600 seconds.
        public var mode: Mode
        /// A prefix put in front of every resource's prefix (confd's `-prefix`); empty for none.
        public var prefix: String
        /// How each resource is written (`-noop`, `-sync-only`).
        public var processing: ResourceProcessor.Configuration
        /// In watch mode, how long to wait after a change for more changes before rendering, so that a burst of
        /// puts gives one render and one reload. Default 20 ms.
        public var debounce: Duration
        /// In watch mode, the first wait before following a key again after its watch failed; it doubles on each
        /// failure up to ``maximumRetryDelay``. Default 500 ms.
        public var retryDelay: Duration
        /// The longest wait between attempts to follow a key again. Default 30 s.
        public var maximumRetryDelay: Duration

        /// Creates a configuration; every parameter has the default described on its property.
        public init(
            mode: Mode = .interval(.seconds(600)),
            prefix: String = "",
            processing: ResourceProcessor.Configuration = ResourceProcessor.Configuration(),
            debounce: Duration = .milliseconds(20),
            retryDelay: Duration = .milliseconds(500),
            maximumRetryDelay: Duration = .seconds(30)
        ) {
            self.mode = mode
            self.prefix = prefix
            self.processing = processing
            self.debounce = debounce
            self.retryDelay = retryDelay
            self.maximumRetryDelay = maximumRetryDelay
        }
    }
}
