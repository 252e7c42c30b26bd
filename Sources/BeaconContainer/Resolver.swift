// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression

/// What a factory uses to get other services and parameters while it builds its service.
///
/// Every service obtained through a resolver is recorded as a dependency of the service being built, so
/// invalidating it later rebuilds this one too; asking for a service that is already being built by the same
/// chain of calls throws a ``ContainerError/Code/circularReference`` error naming the path.
public struct Resolver: Sendable {
    let container: Container
    /// The services being built, outermost first; the last is the one this resolver builds.
    let path: ResolutionPath

    /// Returns the service a typed key names.
    ///
    /// - Parameter key: The key.
    /// - Returns: The service.
    /// - Throws: ``ContainerError`` or the service's construction error.
    public func get<T: Sendable>(_ key: ServiceKey<T>) async throws -> T {
        guard key.owner == container.owner, key.slot >= 0, key.slot < container.slots.count,
            container.definitions[key.slot] != nil
        else {
            return try await get(key.id, as: T.self)
        }
        return try Container.take(try await container.resolve(key.slot, path: path), as: T.self, id: key.id)
    }

    /// Returns the service (or alias) `id` as a `T`.
    ///
    /// - Parameters:
    ///   - id: The service id or alias.
    ///   - type: The type to return.
    /// - Returns: The service.
    /// - Throws: ``ContainerError`` or the service's construction error.
    public func get<T: Sendable>(_ id: String, as type: T.Type = T.self) async throws -> T {
        guard let slot = container.index.slot(of: id) else {
            throw ContainerError.serviceNotFound(id, candidates: container.serviceIDs)
        }
        return try Container.take(try await container.resolve(slot, path: path), as: T.self, id: id)
    }

    /// Returns the service `id`, or `nil` when no such service is defined.
    ///
    /// - Parameters:
    ///   - id: The service id or alias.
    ///   - type: The type to return.
    /// - Returns: The service or `nil`.
    /// - Throws: ``ContainerError`` or the service's construction error.
    public func getIfDefined<T: Sendable>(_ id: String, as type: T.Type = T.self) async throws -> T? {
        guard container.has(id) else { return nil }
        return try await get(id, as: T.self)
    }

    /// The value of a parameter.
    ///
    /// - Parameter name: The parameter name.
    /// - Returns: The value.
    /// - Throws: ``ContainerError`` for an unknown parameter or a missing environment variable.
    public func parameter(_ name: String) throws(ContainerError) -> ExpressionValue {
        try container.parameter(name)
    }

    /// An environment variable through processors, as `%env(int:NAME)%` reads it.
    ///
    /// - Parameter name: `NAME` or `processor:NAME`.
    /// - Returns: The value.
    /// - Throws: ``ContainerError`` when the variable is missing or does not convert.
    public func env(_ name: String) throws(ContainerError) -> ExpressionValue {
        try container.environment.value(named: name)
    }

    /// Runs code of this factory that reads outside inputs, such as discovered values, so that the service is
    /// rebuilt when they change.
    ///
    /// A ``ContainerInput`` read inside `body`, across its suspensions, records the service this resolver builds.
    /// Expressions in definitions need no such wrapping: an input read while an expression is evaluated always
    /// records the service whose definition holds it.
    ///
    /// ```swift
    /// builder.register("database", as: Database.self) { resolver in
    ///     let endpoint = try await resolver.recordingInputs { try await discovery.endpoint("/db/main/endpoint") }
    ///     return Database(endpoint: endpoint)
    /// }
    /// ```
    ///
    /// - Parameter body: The code that reads inputs.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func recordingInputs<Result>(_ body: () async throws -> Result) async throws -> Result {
        let construction = CurrentConstruction.Value(container: container, slot: path.last ?? -1)
        return try await CurrentConstruction.$value.withValue(construction) {
            try await body()
        }
    }
}
