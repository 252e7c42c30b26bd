// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
public import BeaconExpression
import BeaconLocks
import BeaconMemcached
import Synchronization

/// The methods expressions call, such as `service('myapp.dynamic.configuration').getMemcached()`.
///
/// | Method | Returns |
/// | --- | --- |
/// | `get(key)`, `get(key, default)` | the value as a string; without a default an absent key is an error naming it |
/// | `endpoint(key)` | `host:port` |
/// | `endpoints(location)` | a list of `host:port` strings: a key's list, a prefix's entries, a service's instances |
/// | `instances(service)` | a list of arrays with `id`, `service`, `host`, `port`, `weight` and `metadata` |
/// | `getMemcached()`, `getMemcached(location)` | the ``BeaconMemcached/DynamicMemcachedPool`` |
/// | `getDatabase()`, `getDatabase(location)` | the ``BeaconPostgres/PostgresConnectionPool`` |
///
/// A location is a key (`/a/b`), a prefix (`/a/b/`), `service:<name>` (the registered instances of a service, read
/// from the source as a service registry: Consul's catalog, or `/services/<name>/` in etcd and ZooKeeper) or
/// `patroni:<namespace>/<scope>`. As in PHP, too few arguments raise `ArgumentCountError`, and extra arguments are
/// ignored.
extension DiscoveryService: ExpressionObject {
    private static let methods: [String: (name: String, required: Int)] = [
        "get": ("get", 1),
        "endpoint": ("endpoint", 1),
        "endpoints": ("endpoints", 1),
        "instances": ("instances", 1),
        "getmemcached": ("getMemcached", 0),
        "getdatabase": ("getDatabase", 0),
    ]

    /// The class name in expression error messages (``Configuration/className``).
    public var className: String { configuration.className }

    /// Whether `name` is one of the methods above.
    ///
    /// - Parameter lowercasedName: The method name, lower-cased.
    /// - Returns: `true` for `get`, `endpoint`, `endpoints`, `instances`, `getMemcached` and `getDatabase`.
    public func hasMethod(named lowercasedName: String) -> Bool {
        Self.methods[lowercasedName] != nil
    }

    /// Calls one of the methods above. A value not read yet is loaded first: the container awaits the load and
    /// evaluates the expression again (see `ContainerLoadRequest`).
    ///
    /// - Parameters:
    ///   - lowercasedName: The method name, lower-cased.
    ///   - arguments: The arguments; extra ones are ignored.
    /// - Returns: The method's result.
    /// - Throws: `ArgumentCountError` for missing arguments, a `ContainerLoadRequest` for a
    ///   value that must be read first, or the `BeaconError` of an absent or malformed value.
    public func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        guard let method = Self.methods[lowercasedName] else { return .null }
        guard arguments.count >= method.required else {
            throw ExpressionError(
                .argumentCountError,
                "Too few arguments to function \(className)::\(method.name)(), \(arguments.count) passed "
                    + "and at least \(method.required) expected"
            )
        }
        let text = try arguments.first.map { try ExpressionLanguage.string($0).description }
        switch lowercasedName {
        case "get":
            let key = text ?? ""
            guard let entry = try known(.key(key)).first else {
                if arguments.count > 1 {
                    return arguments[1]
                }
                throw BeaconError(.notFound, "the key is absent", key: key)
            }
            return .string(entry.string)
        case "endpoint":
            let key = text ?? ""
            guard let entry = try known(.key(key)).first else {
                throw BeaconError(.notFound, "the key is absent", key: key)
            }
            return .string(try entry.endpoint().description)
        case "endpoints":
            let location = try DiscoveryLocation(endpointsText: text ?? "")
            let snapshot = DiscoverySnapshot(prefix: location.watchPrefix, entries: try known(location))
            let endpoints = try location.endpoints(in: snapshot, defaultPort: nil)
            return .array(ExpressionArray(list: endpoints.map { .string($0.description) }))
        case "instances":
            let instances = try known(.service(text ?? "")).map { entry throws(BeaconError) in
                try ServiceInstance(decoding: entry)
            }
            return .array(ExpressionArray(list: instances.map(Self.expressionValue(of:))))
        case "getmemcached":
            let location = try text.map { text throws(BeaconError) in try DiscoveryLocation(parsing: text) }
            let resolved = location ?? configuration.memcached.location
            let ready = state.withLock { state in
                state.memcached[resolved].flatMap { $0.currentPool == nil ? nil : $0 }
            }
            guard let ready else {
                throw ContainerLoadRequest("the memcached servers at \(resolved)") {
                    _ = try await self.memcached(resolved)
                }
            }
            return Container.expressionValue(of: ready)
        default:
            let location = try text.map { text throws(BeaconError) in try DiscoveryLocation(parsing: text) }
            return Container.expressionValue(of: try database(location))
        }
    }

    /// The entries of a location already read, recorded as read by the current construction; a load request when
    /// they were never read.
    private func known(_ location: DiscoveryLocation) throws -> [KeyValue] {
        if let entries = followed(location).read() {
            return entries
        }
        throw ContainerLoadRequest("the discovered value at \(location)") {
            _ = try await self.entries(of: location)
        }
    }

    private static func expressionValue(of instance: ServiceInstance) -> ExpressionValue {
        var array = ExpressionArray()
        array[key("id")] = .string(instance.id)
        array[key("service")] = .string(instance.service)
        array[key("host")] = .string(instance.endpoint.host)
        array[key("port")] = .int(instance.endpoint.port)
        array[key("weight")] = instance.endpoint.weight.map { .int($0) } ?? .null
        var metadata = ExpressionArray()
        for (name, value) in instance.metadata.sorted(by: { $0.key < $1.key }) {
            metadata[key(name)] = .string(value)
        }
        array[key("metadata")] = .array(metadata)
        return .array(array)
    }

    private static func key(_ name: String) -> ExpressionArrayKey {
        ExpressionArrayKey(normalizing: ExpressionString(name))
    }
}
