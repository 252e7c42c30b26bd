// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconLocks

/// One location (a key, a prefix or a service) that a construction read through a ``DiscoveryService``: its last known
/// entries, and the ``ContainerInput`` that rebuilds the services that read it when they change.
///
/// Each is followed by one watch, shared by every service that read it; keys that nobody read have none. A service's
/// entries are its instances, one `ServiceInstance` JSON entry each, as `DiscoverySource.snapshot(of:)` gives them.
final class FollowedValue: Sendable {
    /// The location followed.
    let location: DiscoveryLocation
    let input: ContainerInput
    /// The entries, sorted by key; `nil` until the first read or snapshot.
    private let entries = Lock<[KeyValue]?>(nil)

    init(_ location: DiscoveryLocation) {
        self.location = location
        self.input = ContainerInput(location.description)
    }

    /// The entries of a snapshot of the location that belong to it: a watch of a key's prefix also sees longer keys
    /// that start with it.
    func entries(in snapshot: DiscoverySnapshot) -> [KeyValue] {
        if let key = location.key {
            return snapshot[key: key].map { [$0] } ?? []
        }
        return snapshot.entries
    }

    /// The known entries, if any, recorded as read by the construction running in this task.
    func read() -> [KeyValue]? {
        // Recorded before reading, so that a change between the two cannot be missed.
        input.recordRead()
        return entries.withLock { $0 }
    }

    /// Stores the entries of a first read, unless a watch stored newer ones meanwhile.
    func storeFirstRead(_ read: [KeyValue]) -> [KeyValue] {
        entries.withLock { entries in
            if let entries {
                return entries
            }
            entries = read
            return read
        }
    }

    /// Stores the entries of a snapshot; when keys or values differ from the known ones (versions alone do not
    /// count: a value written again is no change), rebuilds the services that read them.
    ///
    /// - Returns: `true` when something changed.
    @discardableResult
    func update(_ fresh: [KeyValue]) -> Bool {
        let changed = entries.withLock { entries in
            let changed = entries.map { !Self.sameContent($0, fresh) } ?? false
            entries = fresh
            return changed
        }
        if changed {
            input.changed()
        }
        return changed
    }

    private static func sameContent(_ left: [KeyValue], _ right: [KeyValue]) -> Bool {
        left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
