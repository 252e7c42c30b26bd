// SPDX-License-Identifier: Apache-2.0

import Beacon

/// Any discovery source as one concrete type, so that a ``DiscoveryService`` can put the same cache in front of
/// whichever source its URL names.
struct ErasedSource: WrappingDiscoverySource {
    let base: any DiscoverySource

    func get(_ key: String) async throws -> KeyValue? {
        try await base.get(key)
    }

    func list(prefix: String) async throws -> [KeyValue] {
        try await base.list(prefix: prefix)
    }

    func watch(prefix: String) -> DiscoveryWatch {
        base.watch(prefix: prefix)
    }

    func changes(prefix: String) -> DiscoveryChanges {
        base.changes(prefix: prefix)
    }

    /// The source a service location is read from, as a registry.
    var wrappedSource: any DiscoverySource { base }
}
