// SPDX-License-Identifier: Apache-2.0

/// A PHP warning, notice or deprecation raised while evaluating; evaluation continues as PHP does.
///
/// Examples: `Undefined array key 3`, `Undefined property: Conf::$missing`, `Array to string conversion`,
/// `A non-numeric value encountered`, `Implicit conversion from float 7.5 to int loses precision`.
public struct ExpressionDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How severe the diagnostic is.
    public struct Level: Sendable, Hashable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// PHP's `E_WARNING`.
        public static let warning = Level("E_WARNING")
        /// PHP's `E_NOTICE`.
        public static let notice = Level("E_NOTICE")
        /// PHP's `E_DEPRECATED`.
        public static let deprecated = Level("E_DEPRECATED")

        /// The PHP constant name, such as `E_WARNING`.
        public var description: String { name }
    }

    /// How severe the diagnostic is.
    public let level: Level
    /// PHP's message.
    public let message: String

    /// Creates a diagnostic.
    ///
    /// - Parameters:
    ///   - level: How severe it is.
    ///   - message: PHP's message.
    public init(level: Level, message: String) {
        self.level = level
        self.message = message
    }

    /// The level and the message.
    public var description: String { "\(level): \(message)" }
}
