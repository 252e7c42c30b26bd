// SPDX-License-Identifier: Apache-2.0

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a ``TTLCache`` keeps its last good values on disk, so that a restarted process whose discovery
/// backend is down can start from them.
///
/// Persistence is off unless a cache is given one. The cache then writes one file,
/// `<directory>/<name>.beacon-cache.json`, holding every value it has (negative entries excepted) unless
/// ``init(directory:name:excluding:)`` excludes it. Changes (loads that stored a value, inserts, invalidations)
/// are coalesced: the file is written at most once per ``TTLCacheConfiguration/persistenceInterval``, on a
/// thread of the cache's own, never on the thread that changed the cache; ``TTLCache/flush()`` writes at once
/// and waits, and ``TTLCache/run()`` flushes when it ends. Each write is atomic (a temporary file in the same
/// directory, `fsync`, `rename`), readable and writable by the owner only (mode 0600; the directory is created
/// with mode 0700), with a format name and version. A failed write is logged once per episode and tried again
/// with the next change.
///
/// Restored values count as already expired: they are served only as stale values when a load fails, within
/// ``TTLCacheConfiguration/maxStale`` of when they were loaded. A corrupt, truncated or foreign file is ignored
/// with a logged warning.
///
/// Discovered values can be sensitive (a database URI with a password): exclude them, and keep the directory
/// private to the service's user.
public struct CachePersistence<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The directory holding the file.
    public let directory: String
    /// The file's base name; distinct caches sharing a directory need distinct names.
    public let name: String
    /// Returns `true` for entries that must never be written to disk.
    let isExcluded: @Sendable (Key, Value) -> Bool
    let encode: @Sendable ([PersistedEntry<Key, Value>], String) throws -> [UInt8]
    let decode: @Sendable ([UInt8]) throws -> PersistedFile<Key, Value>

    /// The path of the file.
    public var path: String {
        var base = self.directory
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(self.name).beacon-cache.json"
    }

    /// Persists a cache whose keys and values are `Codable`.
    ///
    /// ```swift
    /// let persistence = CachePersistence<String, String>(directory: cacheDirectory, name: "settings") { key, _ in
    ///     key.hasSuffix("/password")
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - directory: The directory for the file, created if missing.
    ///   - name: The file's base name: letters, digits, `-`, `_` and `.`.
    ///   - isExcluded: Returns `true` for an entry that must never be written to disk (a secret). It runs on the
    ///     writer thread, outside the cache's lock, for every entry of every write, and when the file is read: an
    ///     excluded entry found in the file (written before it was excluded) is not restored, and the file is
    ///     written again without it. Default: nothing is excluded.
    public init(
        directory: String,
        name: String,
        excluding isExcluded: @escaping @Sendable (Key, Value) -> Bool = { _, _ in false }
    ) where Key: Codable, Value: Codable {
        precondition(
            !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) },
            "a cache persistence name may hold letters, digits, '-', '_' and '.'"
        )
        self.directory = directory
        self.name = name
        self.isExcluded = isExcluded
        self.encode = { entries, name in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let file = PersistedFile(
                format: PersistedFile<Key, Value>.formatName,
                version: 1,
                name: name,
                entries: entries
            )
            return Array(try encoder.encode(file))
        }
        self.decode = { bytes in
            try JSONDecoder().decode(PersistedFile<Key, Value>.self, from: Data(bytes))
        }
    }
}

extension CachePersistence where Key == String {
    /// Persists a cache of string keys, except the keys that start with any of the given prefixes.
    ///
    /// ```swift
    /// let persistence = CachePersistence<String, String>(
    ///     directory: cacheDirectory,
    ///     name: "discovery",
    ///     excludedPrefixes: ["/db/main/password", "/secrets/"]
    /// )
    /// ```
    ///
    /// - Parameters:
    ///   - directory: The directory for the file, created if missing.
    ///   - name: The file's base name: letters, digits, `-`, `_` and `.`.
    ///   - excludedPrefixes: A key that starts with one of these is never written to disk (a whole key excludes
    ///     just that key). Empty excludes nothing.
    public init(directory: String, name: String, excludedPrefixes: [String]) where Value: Codable {
        self.init(directory: directory, name: name) { key, _ in
            excludedPrefixes.contains { key.hasPrefix($0) }
        }
    }
}

/// One persisted value with the wall-clock time it was loaded, in nanoseconds since 1970.
struct PersistedEntry<Key: Sendable, Value: Sendable>: Sendable {
    var key: Key
    var value: Value
    var loadedAt: Int64
}

extension PersistedEntry: Codable where Key: Codable, Value: Codable {}

/// The file's layout.
struct PersistedFile<Key: Sendable, Value: Sendable>: Sendable {
    static var formatName: String { "beacon-cache" }
    var format: String
    var version: Int
    var name: String
    var entries: [PersistedEntry<Key, Value>]
}

extension PersistedFile: Codable where Key: Codable, Value: Codable {}
