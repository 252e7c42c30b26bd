// SPDX-License-Identifier: Apache-2.0

/// A Swift object that expressions can use as a PHP object.
///
/// Expressions read properties (`user.name`), call methods (`conf.getHost()`) and, when
/// ``isSubscriptable`` is `true`, index the object (`bag["key"]`, PHP's `ArrayAccess`).
/// As in PHP, property names are case-sensitive and method names are case-insensitive: the evaluator
/// lower-cases ASCII letters of a method name before it calls ``hasMethod(named:)`` and
/// ``callMethod(named:arguments:)``.
///
/// Objects are compared by identity (`===` holds only for the same instance). Conforming types must be
/// `Sendable` because parsed expressions may capture values and be shared between threads.
public protocol ExpressionObject: AnyObject, Sendable {
    /// The class name used in error messages and warnings, such as `Conf`.
    var className: String { get }

    /// Reads a property.
    ///
    /// - Parameter name: The property name, exactly as written in the expression.
    /// - Returns: The value, or `nil` when there is no such property (the evaluator then reports the PHP
    ///   warning `Undefined property: Class::$name` and continues with `null`).
    /// - Throws: Any error, for example an ``ExpressionError`` with code ``ExpressionError/Code/error`` for a
    ///   private property; it propagates to the caller of `evaluate` unchanged.
    func property(named name: String) throws -> ExpressionValue?

    /// Tells whether the object has a method.
    ///
    /// - Parameter lowercasedName: The method name with ASCII letters lower-cased.
    /// - Returns: Whether ``callMethod(named:arguments:)`` accepts the name.
    func hasMethod(named lowercasedName: String) -> Bool

    /// Calls a method.
    ///
    /// PHP ignores extra arguments and raises `ArgumentCountError` for missing ones; implementations should
    /// do the same (throw an ``ExpressionError`` with code ``ExpressionError/Code/argumentCountError``).
    ///
    /// - Parameters:
    ///   - lowercasedName: The method name with ASCII letters lower-cased.
    ///   - arguments: The evaluated arguments, in order.
    /// - Returns: The method's result.
    /// - Throws: Any error; it propagates to the caller of `evaluate` unchanged.
    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue

    /// Whether `object[key]` is allowed (PHP's `ArrayAccess`).
    var isSubscriptable: Bool { get }

    /// Reads an item for `object[key]`; only called when ``isSubscriptable`` is `true`.
    ///
    /// - Parameter key: The key, exactly as evaluated (not normalised).
    /// - Returns: The item.
    /// - Throws: Any error; it propagates to the caller of `evaluate` unchanged.
    func item(forKey key: ExpressionValue) throws -> ExpressionValue

    /// Converts the object to a string (PHP's `__toString`).
    ///
    /// - Returns: The string, or `nil` when the object cannot be converted (the evaluator then raises PHP's
    ///   `Object of class X could not be converted to string` error).
    /// - Throws: Any error; it propagates to the caller of `evaluate` unchanged.
    func stringConversion() throws -> ExpressionString?
}

extension ExpressionObject {
    /// Reports no properties.
    ///
    /// - Parameter name: The property name.
    /// - Returns: `nil`.
    /// - Throws: Never.
    public func property(named name: String) throws -> ExpressionValue? { nil }

    /// Reports no methods.
    ///
    /// - Parameter lowercasedName: The method name.
    /// - Returns: `false`.
    public func hasMethod(named lowercasedName: String) -> Bool { false }

    /// Never called when ``hasMethod(named:)`` returns `false`.
    ///
    /// - Parameters:
    ///   - lowercasedName: The method name.
    ///   - arguments: The arguments.
    /// - Returns: `null`.
    /// - Throws: Never.
    public func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .null
    }

    /// Objects are not subscriptable unless they say so.
    public var isSubscriptable: Bool { false }

    /// Returns `null`.
    ///
    /// - Parameter key: The key.
    /// - Returns: `null`.
    /// - Throws: Never.
    public func item(forKey key: ExpressionValue) throws -> ExpressionValue { .null }

    /// Objects have no string form unless they provide one.
    ///
    /// - Returns: `nil`.
    public func stringConversion() throws -> ExpressionString? { nil }
}
