// SPDX-License-Identifier: Apache-2.0

/// An expression that has been parsed, checked and compiled, ready to evaluate any number of times.
///
/// A parsed expression is immutable and `Sendable`: share it between threads and evaluate it concurrently.
/// It keeps the functions that were registered when it was parsed.
public struct ParsedExpression: Sendable, CustomStringConvertible {
    /// The expression text.
    public let expression: String
    /// The variable names the expression was checked against, sorted.
    public let names: [String]

    let node: Node
    private let evaluator: Evaluator

    init(expression: String, names: [String], node: Node, evaluator: @escaping Evaluator) {
        self.expression = expression
        self.names = names
        self.node = node
        self.evaluator = evaluator
    }

    /// Evaluates the expression.
    ///
    /// - Parameters:
    ///   - values: The variables, by name. A name the expression uses but `values` lacks reads as `null` with
    ///     the PHP warning `Undefined array key "name"`.
    ///   - diagnostics: Receives PHP warnings, notices and deprecations; evaluation continues after each, as in
    ///     PHP. Called synchronously on the evaluating thread.
    /// - Returns: The value of the expression.
    /// - Throws: ``ExpressionError`` for PHP and Symfony runtime errors, and any error thrown by a registered
    ///   function or an ``ExpressionObject``, unchanged.
    public func evaluate(
        values: [String: ExpressionValue] = [:],
        diagnostics: ((ExpressionDiagnostic) -> Void)? = nil
    ) throws -> ExpressionValue {
        try evaluator(Scope(values: values, diagnostics: diagnostics))
    }

    /// Symfony's dump of the syntax tree, fully parenthesised (`(1 + (2 * 3))`).
    public var description: String {
        String(decoding: node.dump(), as: UTF8.self)
    }
}
