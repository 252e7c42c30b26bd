// SPDX-License-Identifier: Apache-2.0

import Beacon
import Configuration

/// An immutable view of one discovery snapshot as configuration: the provider's `snapshot()` and what its
/// synchronous reads consult.
final class ConfigTree: ConfigSnapshot, Sendable {
    let providerName: String
    let mapping: KeyMapping
    /// The discovery snapshot this tree was built from; `nil` for the empty tree served before the first one.
    let source: DiscoverySnapshot?
    /// The entries by configuration key components; discovery keys no configuration key maps to are left out.
    private let entries: [[String]: ConfigEntry]

    init(providerName: String, mapping: KeyMapping, source: DiscoverySnapshot?) {
        self.providerName = providerName
        self.mapping = mapping
        self.source = source
        var entries: [[String]: ConfigEntry] = [:]
        for entry in source ?? DiscoverySnapshot(prefix: mapping.prefix, entries: []) {
            guard let components = mapping.decode(entry.key) else { continue }
            entries[components] = ConfigEntry(entry, isSecret: mapping.isSecret(components))
        }
        self.entries = entries
    }

    /// Looks a key up.
    ///
    /// - Parameters:
    ///   - key: The configuration key; its context is not used.
    ///   - type: The type to read the value as.
    /// - Returns: The discovery key and the typed value; `nil` as the value when the key is absent.
    /// - Throws: `BeaconError` with code `invalidValue` when the value cannot be read as `type`.
    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        guard let entry = self.entries[key.components] else {
            return LookupResult(encodedKey: self.mapping.encode(key.components), value: nil)
        }
        return LookupResult(encodedKey: entry.key, value: try entry.value(as: type, configKey: key.components))
    }
}
