// SPDX-License-Identifier: Apache-2.0

public import Beacon
import Logging

/// What a ``RegistrationWatchdog`` announces while the instance is healthy, and where.
///
/// A struct rather than an enum so that new kinds of targets can be added without breaking exhaustive `switch`es.
///
/// ```swift
/// // A service instance, listed by `instances(of: "web")` of any client of the registry.
/// let instance: RegistrationTarget = .instance(
///     ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "10.0.0.5", port: 8080)),
///     in: etcd
/// )
/// // A plain key, as confd and nginx read it: /test/apache-8001 = 127.0.0.1:8001.
/// let key: RegistrationTarget = .key("/test/apache-8001", value: "127.0.0.1:8001", in: etcd)
/// ```
public struct RegistrationTarget: Sendable, CustomStringConvertible {
    /// Registers and returns what withdraws the registration.
    let register: @Sendable (_ ttl: Duration) async throws -> @Sendable () async -> Void
    /// Log metadata naming what is registered (never a secret).
    let metadata: Logger.Metadata
    /// See ``description``.
    private let text: String

    private init(
        text: String,
        metadata: Logger.Metadata,
        register: @escaping @Sendable (_ ttl: Duration) async throws -> @Sendable () async -> Void
    ) {
        self.text = text
        self.metadata = metadata
        self.register = register
    }

    /// A service instance, registered through `ServiceRegistry.register(_:ttl:)`.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - registry: Where to announce it. A registry whose renewals are background work (the etcd client) must
    ///     run as a service beside the watchdog.
    /// - Returns: The target.
    public static func instance(_ instance: ServiceInstance, in registry: any ServiceRegistry) -> RegistrationTarget {
        RegistrationTarget(
            text: "instance \(instance.service)/\(instance.id)",
            metadata: [
                LogKey.service: "\(instance.service)",
                LogKey.instance: "\(instance.id)",
                LogKey.endpoint: "\(instance.endpoint)",
            ]
        ) { ttl in
            let registration = try await registry.register(instance, ttl: ttl)
            return { await registration.cancel() }
        }
    }

    /// A plain value under a key, written through `EphemeralKeyStore.putEphemeral(_:value:ttl:)`.
    ///
    /// - Parameters:
    ///   - key: The full key, such as `/test/apache-8001`.
    ///   - value: The text to store, such as `127.0.0.1:8001`.
    ///   - store: Where to write it. A store whose renewals are background work (the etcd client) must run as a
    ///     service beside the watchdog.
    /// - Returns: The target.
    public static func key(_ key: String, value: String, in store: any EphemeralKeyStore) -> RegistrationTarget {
        RegistrationTarget(
            text: "key \(key)",
            metadata: [LogKey.key: "\(key)", LogKey.value: "\(value)"]
        ) { ttl in
            let handle = try await store.putEphemeral(key, value: Array(value.utf8), ttl: ttl)
            return { await handle.cancel() }
        }
    }

    /// `instance web/web-1` or `key /test/apache-8001`.
    public var description: String { self.text }
}
