// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A discovery source that reads environment variables, the twelve-factor way.
///
/// A key maps to a variable name by dropping the leading `/`, upper-casing, and turning every character
/// that is not a letter or a digit into `_`, after an optional ``variablePrefix``:
///
/// | key | variable (no prefix) | variable (prefix `APP_`) |
/// | --- | --- | --- |
/// | `/db/main/host` | `DB_MAIN_HOST` | `APP_DB_MAIN_HOST` |
/// | `/services/memcached/cache-1` | `SERVICES_MEMCACHED_CACHE_1` | `APP_SERVICES_MEMCACHED_CACHE_1` |
///
/// ``list(prefix:)`` maps back from variable names: it returns the variables whose names start with the
/// name the prefix maps to, each under the prefix followed by the rest of the name, lower-cased, with `_`
/// turned into `/`. That cannot restore a `-` or `.` after the prefix: `SERVICES_MEMCACHED_CACHE_1` lists
/// under `/services/memcached/` as `/services/memcached/cache/1`. Use ``get(_:)`` with exact keys where
/// such names matter.
///
/// The environment is read once, when the source is created; ``watch(prefix:)`` emits that state and then
/// nothing more, since a process's environment does not change from outside.
public struct EnvironmentSource: DiscoverySource {
    /// The text put before every variable name, for example `APP_`; empty by default.
    public let variablePrefix: String
    private let variables: [String: String]

    /// Creates a source over the process's environment, as it is now.
    ///
    /// - Parameter variablePrefix: Text put before every variable name.
    public init(variablePrefix: String = "") {
        self.init(environment: ProcessInfo.processInfo.environment, variablePrefix: variablePrefix)
    }

    /// Creates a source over the given variables.
    ///
    /// - Parameters:
    ///   - environment: The variables to read.
    ///   - variablePrefix: Text put before every variable name.
    public init(environment: [String: String], variablePrefix: String = "") {
        self.variables = environment
        self.variablePrefix = variablePrefix
    }

    /// The variable name a key maps to.
    ///
    /// - Parameter key: A full key such as `/db/main/host`.
    /// - Returns: The name, such as `DB_MAIN_HOST` (after ``variablePrefix``).
    public func variableName(forKey key: String) -> String {
        self.variablePrefix + Self.mangle(key)
    }

    private static func mangle(_ key: String) -> String {
        var trimmed = Substring(key)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        return String(
            trimmed.uppercased().map { character -> Character in
                character.isASCII && (character.isLetter || character.isNumber) ? character : "_"
            }
        )
    }

    /// Reads the variable a key maps to.
    ///
    /// - Parameter key: A full key.
    /// - Returns: The entry (version `0`), or `nil` when the variable is not set.
    public func get(_ key: String) async -> KeyValue? {
        self.variables[self.variableName(forKey: key)].map { KeyValue(key: key, string: $0) }
    }

    /// Reads every variable whose name starts with the name the prefix maps to.
    ///
    /// - Parameter prefix: A key prefix such as `/db/`.
    /// - Returns: The entries, under keys mapped back from the names (see the type's documentation).
    public func list(prefix: String) async -> [KeyValue] {
        self.snapshot(of: prefix).entries
    }

    /// Emits the current state of the prefix once, then waits until the task is cancelled.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The watch.
    public func watch(prefix: String) -> DiscoveryWatch {
        let snapshot = self.snapshot(of: prefix)
        return DiscoveryWatch {
            var emitted = false
            return {
                if Task.isCancelled { return nil }
                if !emitted {
                    emitted = true
                    return snapshot
                }
                await ChangeSignal.waitUntilCancelled()
                return nil
            }
        }
    }

    private func snapshot(of prefix: String) -> DiscoverySnapshot {
        let namePrefix = self.variableName(forKey: prefix)
        var entries: [KeyValue] = []
        for (name, value) in self.variables where name.hasPrefix(namePrefix) {
            let rest = name.dropFirst(namePrefix.count).lowercased().map { $0 == "_" ? "/" : $0 }
            entries.append(KeyValue(key: prefix + String(rest), string: value))
        }
        return DiscoverySnapshot(prefix: prefix, entries: entries)
    }
}
