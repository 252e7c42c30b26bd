// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression

/// The resolved arguments of a service defined by a named factory (YAML `class:` and `arguments:`).
///
/// ```swift
/// builder.registerFactory("MemcacheSessionHandler") { arguments in
///     MemcacheSessionHandler(servers: try arguments.string(0), ttl: try arguments.int(1))
/// }
/// ```
public struct ServiceArguments: Sendable {
    let arguments: [ResolvedArgument]

    /// Resolves further services or parameters, recorded as dependencies of the service being built.
    public let resolver: Resolver

    init(_ arguments: [ResolvedArgument], resolver: Resolver) {
        self.arguments = arguments
        self.resolver = resolver
    }

    /// The number of arguments.
    public var count: Int { arguments.count }

    private func argument(_ index: Int) throws(ContainerError) -> ResolvedArgument {
        guard arguments.indices.contains(index) else {
            throw ContainerError(
                .invalidDefinition,
                "The factory asked for argument \(index), but the definition has \(arguments.count)."
            )
        }
        return arguments[index]
    }

    /// The argument at `index` as a service of type `T` (`@id`).
    ///
    /// - Parameters:
    ///   - index: The argument's position, from 0.
    ///   - type: The service's type.
    /// - Returns: The service.
    /// - Throws: ``ContainerError`` when there is no such argument or it is not a `T`.
    public func service<T: Sendable>(_ index: Int, as type: T.Type = T.self) throws(ContainerError) -> T {
        switch try argument(index) {
        case .service(let box):
            return try Container.take(box, as: T.self, id: "argument \(index)")
        case .value(let value):
            if let typed = value as? T {
                return typed
            }
            if case .object(let object) = value, let typed = object as? T {
                return typed
            }
            if case .object(let object) = value, let opaque = object as? OpaqueService, let typed = opaque.service as? T
            {
                return typed
            }
            throw ContainerError(.typeMismatch, "Argument \(index) is not a \(T.self).")
        default:
            throw ContainerError(.typeMismatch, "Argument \(index) is not a \(T.self).")
        }
    }

    /// The argument at `index` as a service, or `nil` when it is `null` (`@?id` of a missing service).
    ///
    /// - Parameters:
    ///   - index: The argument's position, from 0.
    ///   - type: The service's type.
    /// - Returns: The service or `nil`.
    /// - Throws: ``ContainerError`` when there is no such argument or it is not a `T`.
    public func optionalService<T: Sendable>(_ index: Int, as type: T.Type = T.self) throws(ContainerError) -> T? {
        if case .value(.null) = try argument(index) {
            return nil
        }
        return try service(index, as: T.self)
    }

    /// The argument at `index` as an expression value; services become objects.
    ///
    /// - Parameter index: The argument's position, from 0.
    /// - Returns: The value.
    /// - Throws: ``ContainerError`` when there is no such argument.
    public func value(_ index: Int) throws(ContainerError) -> ExpressionValue {
        Self.value(of: try argument(index))
    }

    private static func value(of argument: ResolvedArgument) -> ExpressionValue {
        switch argument {
        case .value(let value): return value
        case .service(let box): return box.expressionValue
        case .list(let elements): return .list(elements.map(value(of:)))
        case .map(let entries):
            var array = ExpressionArray()
            for entry in entries {
                array[entry.key] = value(of: entry.value)
            }
            return .array(array)
        }
    }

    /// The argument at `index` converted to a string as PHP does.
    ///
    /// - Parameter index: The argument's position, from 0.
    /// - Returns: The string.
    /// - Throws: ``ContainerError`` when there is no such argument; `ExpressionError` when it cannot be converted.
    public func string(_ index: Int) throws -> String {
        try ExpressionLanguage.string(try value(index)).description
    }

    /// The argument at `index` as an integer (ints, and strings or floats holding one).
    ///
    /// - Parameter index: The argument's position, from 0.
    /// - Returns: The integer.
    /// - Throws: ``ContainerError`` when there is no such argument or it is not an integer.
    public func int(_ index: Int) throws(ContainerError) -> Int {
        let value = try value(index)
        switch value {
        case .int(let integer):
            return integer
        case .float(let double) where double == double.rounded() && abs(double) < 9e18:
            return Int(double)
        case .string(let string):
            if let integer = Int(string.description) {
                return integer
            }
        default:
            break
        }
        throw ContainerError(.typeMismatch, "Argument \(index) is a \(value.typeName), not an int.")
    }

    /// The argument at `index` as a list of expression values (a list argument or an array value).
    ///
    /// - Parameter index: The argument's position, from 0.
    /// - Returns: The elements.
    /// - Throws: ``ContainerError`` when there is no such argument or it is not an array.
    public func list(_ index: Int) throws(ContainerError) -> [ExpressionValue] {
        guard case .array(let array) = try value(index) else {
            throw ContainerError(.typeMismatch, "Argument \(index) is not a list.")
        }
        return array.values
    }
}
