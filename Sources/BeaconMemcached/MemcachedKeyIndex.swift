// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// The requested keys of a ``MemcachedItems``, looked up by key: the request's ``MemcachedKeyBatch`` (whose keys
/// are already laid out, and whose table is built on the first lookup that needs it), behind a lock because a
/// lookup moves its cursor.
final class MemcachedKeyIndex: Sendable {
    private let batch: Lock<MemcachedKeyBatch>

    init(_ batch: consuming MemcachedKeyBatch) {
        self.batch = Lock(batch)
    }

    /// A position of a requested key equal to `key`, or `nil` when it was not requested.
    func position(of key: String) -> Int? {
        MemcachedConnection.withBytes(key) { bytes in
            self.batch.withLock { batch in batch.position(of: UnsafeRawBufferPointer(bytes)) }
        }
    }
}
