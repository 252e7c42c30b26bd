// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// The keys and values a template renders: those read for a resource, relative to its prefix, and the instances of
/// the services it names.
///
/// A resource with `prefix = "/production"` and `keys = ["/nginx"]` reads everything under `/production/nginx`; its
/// template sees `/production/nginx/upstream/a` as `/nginx/upstream/a`, exactly as a confd template does. See
/// Documentation/Confd.md for how templates address keys (`{{nginx.upstream.a}}`, `{{#values(nginx.upstream)}}`).
///
/// A service the resource names (`keys = ["service:web"]`) is not a key: its instances, as the registry lists them,
/// are placed at `/services/<service>/<id>`, each holding the instance as `ServiceInstance` JSON, whatever the prefix,
/// so that `{{#instances(services.web)}}` gives each instance's `id`, `host`, `port`, `address`, `weight` and
/// `metadata` on every registry (Consul's catalog as much as etcd's `/services/web/` keys).
public struct TemplateData: Sendable, Equatable {
    /// The keys, sorted, each relative to the prefix and starting with `/`.
    let keys: [String]
    /// The value of each key.
    let values: [String: String]

    /// Collects what a resource read.
    ///
    /// - Parameters:
    ///   - entries: The entries read, with full keys; entries outside `prefix` are left out.
    ///   - prefix: The resource's prefix (``TemplateResource/effectivePrefix(globalPrefix:)``), removed from each key.
    ///   - instances: The instances of the services the resource names (``TemplateResource/services``), placed at
    ///     `/services/<service>/<id>` as `ServiceInstance` JSON; they replace any key read at the same place.
    public init(entries: some Sequence<KeyValue>, prefix: String, instances: [ServiceInstance] = []) {
        let prefix = KeyPath.join(prefix)
        var values: [String: String] = [:]
        for entry in entries {
            guard let key = KeyPath.relative(entry.key, to: prefix) else { continue }
            values[key] = entry.string
        }
        for instance in instances {
            let key = KeyPath.join(ServiceInstance.servicePrefix(instance.service), instance.id)
            values[key] = String(decoding: instance.encodedValue(), as: UTF8.self)
        }
        self.init(cleanValues: values)
    }

    /// Creates data from keys and values, for tests and examples.
    ///
    /// - Parameter values: Values by key; keys are cleaned (`test/a/` becomes `/test/a`).
    public init(values: [String: String]) {
        var cleaned: [String: String] = [:]
        for (key, value) in values { cleaned[KeyPath.join(key)] = value }
        self.init(cleanValues: cleaned)
    }

    /// Creates data from keys that are already clean (`KeyPath.relative` gives such keys).
    private init(cleanValues: [String: String]) {
        self.values = cleanValues
        self.keys = cleanValues.keys.sorted()
    }

    /// The number of keys.
    public var count: Int { self.keys.count }

    /// The value of a key, relative to the prefix.
    ///
    /// - Parameter key: A key such as `/test/apache-8001`.
    /// - Returns: The value, or `nil` when the key does not exist.
    public func value(of key: String) -> String? {
        self.values[KeyPath.join(key)]
    }

    // MARK: Lookups used by the template values

    /// The positions in ``keys`` of the keys strictly under `path` (`/test` gives `/test/a`, `/test/a/b`, …).
    func rangeUnder(_ path: String) -> Range<Int> {
        if path == "/" {
            let start = self.keys.first == "/" ? 1 : 0
            return start..<self.keys.count
        }
        // Every key under `path/` sorts between `path/` and `path0` ("0" follows "/").
        return self.lowerBound(path + "/")..<self.lowerBound(path + "0")
    }

    /// `true` when `path` has a value or keys under it.
    func exists(_ path: String) -> Bool {
        self.values[path] != nil || !self.rangeUnder(path).isEmpty
    }

    /// The keys directly under `path` that have values, in key order.
    func directKeys(under path: String) -> [String] {
        let depth = Self.depth(of: path) + 1
        return self.keys[self.rangeUnder(path)].filter { Self.depth(of: $0) == depth }
    }

    /// The names of the children of `path` (keys or directories), sorted and unique.
    ///
    /// - Parameters:
    ///   - path: The directory.
    ///   - directoriesOnly: `true` to keep only the children that have keys under them.
    /// - Returns: The names, such as `apache-8001`.
    func childNames(of path: String, directoriesOnly: Bool) -> [String] {
        let base = path == "/" ? 0 : path.count
        var names: Set<String> = []
        var directories: Set<String> = []
        for key in self.keys[self.rangeUnder(path)] {
            let rest = key.dropFirst(base + 1)
            if let slash = rest.firstIndex(of: "/") {
                directories.insert(String(rest[..<slash]))
            } else {
                names.insert(String(rest))
            }
        }
        return (directoriesOnly ? directories : names.union(directories)).sorted()
    }

    /// The number of segments in a key: `/` has 0, `/test` 1, `/test/a` 2.
    static func depth(of key: String) -> Int {
        key.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) } - (key == "/" ? 1 : 0)
    }

    /// The first position whose key is not less than `key`.
    private func lowerBound(_ key: String) -> Int {
        var low = 0
        var high = self.keys.count
        while low < high {
            let middle = (low + high) / 2
            if self.keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
