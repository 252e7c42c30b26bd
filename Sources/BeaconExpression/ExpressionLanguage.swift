// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// Symfony's ExpressionLanguage: parses, checks, compiles and evaluates expressions with PHP semantics.
///
/// ```swift
/// let language = ExpressionLanguage()
/// language.register("double") { arguments in
///     try ExpressionLanguage.add(arguments.first ?? .null, arguments.first ?? .null)
/// }
/// let parsed = try language.parse("double(x) + 1", names: ["x"])
/// let value = try parsed.evaluate(values: ["x": 20])   // .int(41)
/// ```
///
/// The built-in function `constant(name)` reads PHP constants (`PHP_INT_MAX`, `M_PI`, ...) and those added
/// with ``defineConstant(_:value:)``. Parsed expressions are cached by text and variable names.
/// `ExpressionLanguage` is thread-safe.
public final class ExpressionLanguage: Sendable {
    private struct CacheKey: Hashable {
        let expression: [UInt8]
        let names: [String]
    }

    private struct State {
        var functionOrder: [String] = []
        var functions: [String: RegisteredFunction] = [:]
        var cache: [CacheKey: ParsedExpression] = [:]
    }

    /// The most parsed expressions the cache keeps; it is emptied when full.
    public static let cacheCapacity = 4096

    private let state = Lock(State())
    private let constants: ConstantTable

    /// Creates a language with the built-in `constant()` function.
    public init() {
        let constants = ConstantTable()
        self.constants = constants
        register("constant") { arguments in try constants.evaluate(arguments) }
    }

    /// Registers a function, or replaces one with the same name (which keeps its place in the order).
    ///
    /// Functions are resolved when an expression is parsed; registering empties the parse cache so later
    /// parses see the change. The registration order is the order of `Did you mean` suggestions.
    ///
    /// - Parameters:
    ///   - name: The function name (case-sensitive).
    ///   - evaluator: Computes the result from the evaluated arguments. PHP functions ignore extra arguments;
    ///     throw an ``ExpressionError`` with code ``ExpressionError/Code/argumentCountError`` for missing ones.
    public func register(
        _ name: String,
        evaluator: @escaping @Sendable (_ arguments: [ExpressionValue]) throws -> ExpressionValue
    ) {
        register(name, usingVariables: { _, arguments in try evaluator(arguments) })
    }

    /// Registers a function that also reads the evaluation's variables, as Symfony's evaluators do (its
    /// dependency-injection functions read the `container` variable this way).
    ///
    /// - Parameters:
    ///   - name: The function name (case-sensitive).
    ///   - evaluator: Computes the result from the variables passed to `evaluate` and the evaluated arguments.
    public func register(
        _ name: String,
        usingVariables evaluator:
            @escaping @Sendable (
                _ variables: [String: ExpressionValue], _ arguments: [ExpressionValue]
            ) throws -> ExpressionValue
    ) {
        state.withLock { state in
            if state.functions[name] == nil {
                state.functionOrder.append(name)
            }
            state.functions[name] = RegisteredFunction(evaluate: evaluator)
            state.cache.removeAll()
        }
    }

    /// Defines a constant for `constant()`, such as `Conf::DEFAULT_PORT`.
    ///
    /// - Parameters:
    ///   - name: The name `constant()` is called with.
    ///   - value: The constant's value.
    public func defineConstant(_ name: String, value: ExpressionValue) {
        constants.define(name, value: value)
    }

    /// The registered function names, in registration order.
    public var functionNames: [String] {
        state.withLock { $0.functionOrder }
    }

    /// Parses, checks and compiles an expression.
    ///
    /// - Parameters:
    ///   - expression: The expression.
    ///   - names: The variable names the expression may use; any other name is a syntax error.
    ///   - useCache: Whether to look the expression up in, and add it to, the parse cache (default `true`).
    /// - Returns: The compiled expression, from the cache when the same text and names were parsed before.
    /// - Throws: ``ExpressionError`` with code ``ExpressionError/Code/syntaxError`` and Symfony's message, or
    ///   ``ExpressionError/Code/nestingTooDeep`` when the expression nests too deeply.
    public func parse(_ expression: String, names: [String], useCache: Bool = true) throws -> ParsedExpression {
        try parse(bytes: Array(expression.utf8), names: names, useCache: useCache)
    }

    /// Parses, checks and compiles an expression given as bytes, which need not be valid UTF-8.
    ///
    /// - Parameters:
    ///   - bytes: The expression bytes.
    ///   - names: The variable names the expression may use.
    ///   - useCache: Whether to use the parse cache (default `true`).
    /// - Returns: The compiled expression.
    /// - Throws: ``ExpressionError`` as ``parse(_:names:useCache:)``.
    public func parse(bytes: [UInt8], names: [String], useCache: Bool = true) throws -> ParsedExpression {
        let sortedNames = ExpressionLanguage.sortedNames(names)
        let key = CacheKey(expression: bytes, names: sortedNames)
        let (cached, functionOrder, functions) = state.withLock { state in
            (useCache ? state.cache[key] : nil, state.functionOrder, state.functions)
        }
        if let cached {
            return cached
        }
        let stack = StackGuard()
        let node = try Parser.parse(bytes, names: sortedNames, functions: functionOrder, stack: stack)
        let evaluator = try Compiler(functions: functions, stack: stack).compile(node)
        let parsed = ParsedExpression(
            expression: String(decoding: bytes, as: UTF8.self),
            names: sortedNames,
            node: node,
            evaluator: evaluator
        )
        guard useCache else { return parsed }
        state.withLock { state in
            if state.cache.count >= ExpressionLanguage.cacheCapacity {
                state.cache.removeAll(keepingCapacity: true)
            }
            state.cache[key] = parsed
        }
        return parsed
    }

    /// Parses (through the cache) and evaluates an expression, with the keys of `values` as the allowed names.
    ///
    /// - Parameters:
    ///   - expression: The expression.
    ///   - values: The variables, by name.
    ///   - diagnostics: Receives PHP warnings, notices and deprecations; evaluation continues after each.
    /// - Returns: The value of the expression.
    /// - Throws: ``ExpressionError`` for syntax and runtime errors; errors of registered functions and objects
    ///   unchanged.
    public func evaluate(
        _ expression: String,
        values: [String: ExpressionValue] = [:],
        diagnostics: ((ExpressionDiagnostic) -> Void)? = nil
    ) throws -> ExpressionValue {
        try parse(expression, names: Array(values.keys)).evaluate(values: values, diagnostics: diagnostics)
    }

    /// The number of cached parsed expressions; for the package's tests.
    package var cachedExpressionCount: Int {
        state.withLock { $0.cache.count }
    }

    /// Sorts names as Symfony's `asort()` does (PHP comparison: numeric strings by value).
    private static func sortedNames(_ names: [String]) -> [String] {
        var unique: [String] = []
        var seen = Set<String>()
        for name in names where seen.insert(name).inserted {
            unique.append(name)
        }
        return unique.enumerated().sorted { first, second in
            let order = smartStringCompare(ExpressionString(first.element), ExpressionString(second.element))
            return order != 0 ? order < 0 : first.offset < second.offset
        }.map(\.element)
    }
}

extension ExpressionLanguage {
    /// PHP's `+` on two values, for use in registered functions.
    ///
    /// - Parameters:
    ///   - left: The left operand.
    ///   - right: The right operand.
    /// - Returns: The sum (an int while it fits, else a float; the union of two arrays).
    /// - Throws: ``ExpressionError`` with code ``ExpressionError/Code/typeError`` for unsupported operands.
    public static func add(_ left: ExpressionValue, _ right: ExpressionValue) throws -> ExpressionValue {
        try PHPArithmetic.add(left, right, scope: .silent)
    }

    /// PHP's conversion of a value to a string, for use in registered functions and objects.
    ///
    /// - Parameter value: The value.
    /// - Returns: The string (floats with 14 significant digits; `Array` for arrays).
    /// - Throws: ``ExpressionError`` with code ``ExpressionError/Code/error`` for objects that cannot be converted.
    public static func string(_ value: ExpressionValue) throws -> ExpressionString {
        ExpressionString(bytes: try phpString(of: value, scope: .silent))
    }
}
