// SPDX-License-Identifier: Apache-2.0

/// An error raised while parsing or evaluating an expression.
///
/// ``code`` says which PHP or Symfony error class the failure corresponds to; ``message`` is the text PHP or
/// Symfony would print (syntax errors carry Symfony's exact text, including `around position N for
/// expression ...`). Errors thrown by registered functions and by ``ExpressionObject`` methods are not
/// wrapped: they reach the caller unchanged.
public struct ExpressionError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of error.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case syntaxError = "Symfony\\Component\\ExpressionLanguage\\SyntaxError"
            case runtimeError = "RuntimeException"
            case divisionByZero = "DivisionByZeroError"
            case typeError = "TypeError"
            case argumentCountError = "ArgumentCountError"
            case valueError = "ValueError"
            case error = "Error"
            case nestingTooDeep = "NestingTooDeep"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A lexer or parser error, an unknown variable or function, or an invalid `matches` pattern
        /// (Symfony's `SyntaxError`).
        public static let syntaxError = Code(.syntaxError)
        /// Symfony's `RuntimeException`: property, method or item access on the wrong kind of value.
        public static let runtimeError = Code(.runtimeError)
        /// Division or modulo by zero (PHP's `DivisionByZeroError`).
        public static let divisionByZero = Code(.divisionByZero)
        /// PHP's `TypeError`, such as `Unsupported operand types: string + int`.
        public static let typeError = Code(.typeError)
        /// PHP's `ArgumentCountError`: too few arguments for a function or method.
        public static let argumentCountError = Code(.argumentCountError)
        /// PHP's `ValueError`, such as an invalid `range()` step.
        public static let valueError = Code(.valueError)
        /// PHP's generic `Error`, such as an undefined constant or a private property.
        public static let error = Code(.error)
        /// The expression is nested more deeply than the parser allows (Beacon's guard against stack
        /// exhaustion; Symfony 5.4 has no such limit).
        public static let nestingTooDeep = Code(.nestingTooDeep)

        /// The PHP class name of the error this code stands for.
        public var phpClassName: String { base.rawValue }

        /// The PHP class name.
        public var description: String { base.rawValue }
    }

    /// The kind of error.
    public let code: Code
    /// The message, as PHP or Symfony words it.
    public let message: String
    /// For syntax errors, the number in `around position N`.
    public let position: Int?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconExpression/Parser.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of error.
    ///   - message: The complete message.
    ///   - position: For syntax errors, the position reported in the message.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        position: Int? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.position = position
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// The PHP class name and the message.
    public var description: String {
        "\(code.phpClassName): \(message)"
    }

    /// The description followed by where the error was thrown.
    public var debugDescription: String {
        "ExpressionError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }

    /// Whether two errors have the same code, message and position; where they were thrown does not count.
    public static func == (lhs: ExpressionError, rhs: ExpressionError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.position == rhs.position
    }

    /// Hashes the code, the message and the position.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.message)
        hasher.combine(self.position)
    }
}

extension ExpressionError {
    /// Builds Symfony's `SyntaxError` text: `<message> around position N[ for expression `E`].[ Did you mean "x"?]`.
    static func syntax(
        _ message: String,
        position: Int,
        expression: [UInt8],
        subject: [UInt8]? = nil,
        proposals: [String]? = nil
    ) -> ExpressionError {
        var text = Array(message.utf8)
        while text.last == UInt8(ascii: ".") {
            text.removeLast()
        }
        text += Array(" around position \(position)".utf8)
        if !expression.isEmpty, expression != [UInt8(ascii: "0")] {
            text += Array(" for expression `".utf8) + expression + [UInt8(ascii: "`")]
        }
        text.append(UInt8(ascii: "."))
        if let subject, let proposals {
            var best: String?
            var bestScore = Int.max
            for proposal in proposals {
                // A length difference of 3 or more means a distance of at least 3: never suggested.
                guard abs(proposal.utf8.count - subject.count) < 3 else { continue }
                let distance = levenshtein(subject, Array(proposal.utf8))
                if distance < bestScore {
                    best = proposal
                    bestScore = distance
                }
            }
            if let best, bestScore < 3 {
                text += Array(" Did you mean \"\(best)\"?".utf8)
            }
        }
        return ExpressionError(.syntaxError, String(decoding: text, as: UTF8.self), position: position)
    }

    /// A PHP `TypeError` for an arithmetic or bitwise operator on unsupported operands.
    static func unsupportedOperands(
        _ left: ExpressionValue,
        _ symbol: String,
        _ right: ExpressionValue
    ) -> ExpressionError {
        ExpressionError(
            .typeError,
            "Unsupported operand types: \(left.typeName) \(symbol) \(right.typeName)"
        )
    }
}

/// PHP's `levenshtein()` on bytes, with unit costs.
func levenshtein(_ source: [UInt8], _ target: [UInt8]) -> Int {
    if source.isEmpty { return target.count }
    if target.isEmpty { return source.count }
    var previous = Array(0...target.count)
    var current = [Int](repeating: 0, count: target.count + 1)
    for (sourceIndex, sourceByte) in source.enumerated() {
        current[0] = sourceIndex + 1
        for (targetIndex, targetByte) in target.enumerated() {
            let substitution = previous[targetIndex] + (sourceByte == targetByte ? 0 : 1)
            current[targetIndex + 1] = min(substitution, previous[targetIndex + 1] + 1, current[targetIndex] + 1)
        }
        swap(&previous, &current)
    }
    return previous[target.count]
}
