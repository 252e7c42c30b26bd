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
/// `<directory>/<name>.beacon-cache.json`, holding every value it has (negative entries excepted). Changes
/// (loads that stored a value, inserts, invalidations) are coalesced: the file is written at most once per
/// ``TTLCacheConfiguration/persistenceInterval``, on a
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
/// Discovered values can be sensitive (a database URI with a password): keep the directory private to the
/// service's user.
public struct CachePersistence<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The directory holding the file.
    public let directory: String
    /// The file's base name; distinct caches sharing a directory need distinct names.
    public let name: String
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
    /// - Parameters:
    ///   - directory: The directory for the file, created if missing.
    ///   - name: The file's base name: letters, digits, `-`, `_` and `.`.
    public init(directory: String, name: String) where Key: Codable, Value: Codable {
        precondition(
            !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) },
            "a cache persistence name may hold letters, digits, '-', '_' and '.'"
        )
        self.directory = directory
        self.name = name
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
