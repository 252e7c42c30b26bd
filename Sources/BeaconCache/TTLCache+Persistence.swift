// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Logging

extension TTLCache {
    /// Waits until every change made to the cache so far is written to its persistence file (or the write failed,
    /// which is logged), writing at once instead of waiting for ``TTLCacheConfiguration/persistenceInterval``.
    ///
    /// Returns at once without persistence or when nothing is pending. The write runs on the cache's writer thread;
    /// the calling task only waits. Cancelling the calling task ends the wait, not the write. ``run()`` calls it when
    /// it ends; call it yourself before the process exits when the cache does not run in a `ServiceGroup`.
    public func flush() async {
        await self.writer?.flush(cancellable: true)
    }

    /// Counts a change to the cache's contents for the writer thread; cheap enough for any caller's thread.
    func persistenceChanged() {
        self.writer?.recordChange { [self] in { try self.writePersistenceFile() } }
    }

    /// Writes the persistence file; runs on the writer thread.
    ///
    /// The entries are collected under the cache's lock; the exclusion predicate, encoding and the file write run
    /// outside it.
    private func writePersistenceFile() throws {
        guard let persistence else { return }
        let now = self.time.now()
        let wallNow = WallClock.nanosecondsSinceEpoch()
        let entries = self.shell.withLock { shell in
            shell.core.entries.compactMap { key, entry in
                entry.value.map { PersistedEntry(key: key, value: $0, loadedAt: wallNow - (now - entry.loadedAt)) }
            }
        }
        let kept = entries.filter { !persistence.isExcluded($0.key, $0.value) }
        let bytes = try persistence.encode(kept, persistence.name)
        try PersistenceFile.store(bytes, at: persistence.path, directory: persistence.directory)
    }

    /// Restores the entries of the persistence file (called by `init`).
    ///
    /// Excluded entries (written before they were excluded) are not restored, and the file is then written again
    /// without them.
    func restorePersistedEntries() {
        guard let persistence else { return }
        let bytes: [UInt8]
        do {
            bytes = try FileReading.contents(of: persistence.path)
        } catch {
            self.logger.debug("No persisted cache entries", metadata: ["beacon.file": "\(persistence.path)"])
            return
        }
        let file: PersistedFile<Key, Value>
        do {
            file = try persistence.decode(bytes)
        } catch {
            self.logger.warning(
                "Ignoring a persisted cache file that cannot be decoded",
                metadata: ["beacon.file": "\(persistence.path)", "beacon.error": "\(error)"]
            )
            return
        }
        guard file.format == PersistedFile<Key, Value>.formatName, file.version == 1, file.name == persistence.name
        else {
            self.logger.warning(
                "Ignoring a persisted cache file of another format, version or cache",
                metadata: [
                    "beacon.file": "\(persistence.path)", "beacon.format": "\(file.format)",
                    "beacon.version": "\(file.version)",
                ]
            )
            return
        }
        let restored = file.entries.filter { !persistence.isExcluded($0.key, $0.value) }
        let now = self.time.now()
        let wallNow = WallClock.nanosecondsSinceEpoch()
        self.shell.withLock { shell in
            for entry in restored {
                let age = max(0, wallNow - entry.loadedAt)
                shell.core.restore(entry.key, value: entry.value, loadedAt: now - age)
            }
        }
        self.logger.debug(
            "Restored persisted cache entries",
            metadata: ["beacon.file": "\(persistence.path)", "beacon.count": "\(restored.count)"]
        )
        if restored.count < file.entries.count {
            self.logger.info(
                "Removing excluded entries from the persisted cache file",
                metadata: [
                    "beacon.file": "\(persistence.path)", "beacon.count": "\(file.entries.count - restored.count)",
                ]
            )
            self.persistenceChanged()
        }
    }
}
