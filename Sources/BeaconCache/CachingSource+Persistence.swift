// SPDX-License-Identifier: Apache-2.0

import Beacon

extension CachingSource {
    /// Whether a cached key must stay off disk: it starts with one of the excluded prefixes.
    static func isExcluded(key: String, by excluded: [String]) -> Bool {
        excluded.contains { key.hasPrefix($0) }
    }

    /// Whether a cached list must stay off disk: its prefix lies under an excluded prefix, or it holds an excluded
    /// key.
    static func isExcluded(list prefix: String, entries: [KeyValue], by excluded: [String]) -> Bool {
        guard !excluded.isEmpty else { return false }
        return Self.isExcluded(key: prefix, by: excluded)
            || entries.contains { Self.isExcluded(key: $0.key, by: excluded) }
    }
}
