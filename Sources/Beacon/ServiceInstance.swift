// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One running instance of a service, as registered in and listed from a ``ServiceRegistry``.
///
/// Registries that store instances as key-value entries (etcd, the in-process sources) use one
/// convention, so that any ``DiscoverySource`` can list what any registry wrote:
///
/// - the key is `/services/<service>/<id>` (see ``key(prefix:)``);
/// - the value is a JSON object: `{"id":"web-1","service":"web","host":"10.0.0.5","port":8080,
///   "weight":2,"metadata":{"zone":"a"}}`, with `weight` and `metadata` optional.
public struct ServiceInstance: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The service's name, for example `memcached`. It must not contain `/`.
    public var service: String
    /// This instance's identifier, unique within the service. It must not contain `/`.
    public var id: String
    /// Where the instance listens.
    public var endpoint: Endpoint
    /// Free-form labels (zone, version, ...). Never put secrets here: metadata is readable by every client.
    public var metadata: [String: String]

    /// Creates an instance description.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - id: The instance's identifier, unique within the service.
    ///   - endpoint: Where the instance listens.
    ///   - metadata: Free-form labels.
    public init(service: String, id: String, endpoint: Endpoint, metadata: [String: String] = [:]) {
        self.service = service
        self.id = id
        self.endpoint = endpoint
        self.metadata = metadata
    }

    /// The default prefix under which instances are stored: `/services`.
    public static let defaultPrefix = "/services"

    /// The key under which this instance is stored: `<prefix>/<service>/<id>`.
    ///
    /// - Parameter prefix: The registry's prefix; ``defaultPrefix`` by default.
    /// - Returns: The key.
    public func key(prefix: String = ServiceInstance.defaultPrefix) -> String {
        "\(Self.servicePrefix(self.service, prefix: prefix))\(self.id)"
    }

    /// The prefix under which the instances of a service are stored: `<prefix>/<service>/`.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - prefix: The registry's prefix; ``defaultPrefix`` by default.
    /// - Returns: The prefix, ending in `/`.
    public static func servicePrefix(_ service: String, prefix: String = ServiceInstance.defaultPrefix) -> String {
        var base = prefix
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(service)/"
    }

    /// Checks that the service name and identifier can be used in a key.
    ///
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidKey`` when either is empty or
    ///   contains `/`.
    public func validate() throws(BeaconError) {
        for (what, value) in [("service name", self.service), ("instance id", self.id)] {
            if value.isEmpty || value.contains("/") {
                throw BeaconError(.invalidKey, "the \(what) must be non-empty and must not contain '/'", text: value)
            }
        }
    }

    /// The JSON value stored under ``key(prefix:)``.
    ///
    /// - Returns: UTF-8 JSON bytes, with keys sorted.
    public func encodedValue() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings and integers cannot fail.
        let data = (try? encoder.encode(StoredForm(self))) ?? Data()
        return Array(data)
    }

    /// Decodes an instance from an entry written with the key convention.
    ///
    /// - Parameter entry: An entry whose value is the JSON form.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` naming the key when the value
    ///   is not the JSON form.
    public init(decoding entry: KeyValue) throws(BeaconError) {
        let stored: StoredForm
        do {
            stored = try JSONDecoder().decode(StoredForm.self, from: Data(entry.value))
        } catch {
            throw BeaconError(
                .invalidValue,
                "expected a service instance as JSON with id, service, host and port",
                key: entry.key,
                text: entry.string
            )
        }
        self.init(
            service: stored.service,
            id: stored.id,
            endpoint: Endpoint(host: stored.host, port: stored.port, weight: stored.weight),
            metadata: stored.metadata ?? [:]
        )
    }

    /// `service/id at endpoint`.
    public var description: String { "\(self.service)/\(self.id) at \(self.endpoint)" }

    /// The stored JSON layout (flat host and port, optional weight and metadata).
    private struct StoredForm: Codable {
        var id: String
        var service: String
        var host: String
        var port: Int
        var weight: Int?
        var metadata: [String: String]?

        init(_ instance: ServiceInstance) {
            self.id = instance.id
            self.service = instance.service
            self.host = instance.endpoint.host
            self.port = instance.endpoint.port
            self.weight = instance.endpoint.weight
            self.metadata = instance.metadata.isEmpty ? nil : instance.metadata
        }
    }
}
