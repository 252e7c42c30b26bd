// SPDX-License-Identifier: Apache-2.0

import CBeaconMemcached

extension MemcachedConnection {
    /// Reads a value.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The value's bytes, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func get(_ key: String) throws(MemcachedError) -> [UInt8]? {
        var valueLength = 0
        var flags: UInt32 = 0
        var value: UnsafeMutablePointer<CChar>?
        let rc = try self.perform(key) { pointer, length, group, groupLength in
            var rc = MEMCACHED_SUCCESS
            value = memcached_get_by_key(self.handle, group, groupLength, pointer, length, &valueLength, &flags, &rc)
            return rc
        }
        defer { free(value) }
        if rc == MEMCACHED_NOTFOUND { return nil }
        guard memcached_success(rc) else { throw self.failure(rc, key: key, operation: "get") }
        return copyBytes(UnsafeRawBufferPointer(start: value, count: valueLength))
    }

    /// Reads a value with its flags and compare-and-swap token.
    ///
    /// - Parameter key: The key, without the pool's key prefix.
    /// - Returns: The item, or `nil` when the key is absent.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` when memcached refuses the key (it
    ///   is then not sent), or naming the key's server when the server fails or cannot be reached.
    public func getItem(_ key: String) throws(MemcachedError) -> MemcachedItem? {
        try self.getMulti([key]).item(at: 0)
    }

    /// Reads several values in one batched round trip per server involved.
    ///
    /// The result keeps `keys` and holds every value found in one buffer: iterate it (the keys found, in request
    /// order), look items up by key or by position, or take its ``MemcachedItems/dictionary`` for PHP's shape.
    ///
    /// When some servers fail and others answer, the values from the servers that answered are returned (as
    /// PHP's `getMulti` does); the failure is thrown only when no server answered. The keys of a server that
    /// timed out ``MemcachedPool/Configuration/failureLimit`` times in a row are not requested while it is skipped
    /// (they are absent from the result), or go to another server with
    /// ``MemcachedPool/Configuration/removeFailedServers``.
    ///
    /// - Parameter keys: The keys, without the pool's key prefix; a key may be repeated.
    /// - Returns: The items found, by request position.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key memcached refuses,
    ///   naming its position (no key is requested then); with code ``MemcachedError/Code/unavailable`` when every
    ///   key's server is skipped; or when the request failed on every server.
    public func getMulti(_ keys: [String]) throws(MemcachedError) -> MemcachedItems {
        if keys.isEmpty { return MemcachedItems() }
        var batch = try MemcachedKeyBatch(keys, rules: self.keyRules)
        var items = MemcachedItems(requestedKeys: keys)
        try self.read(keys, batch) { key, value in items.record(key: key, value, batch: &batch) }
        items.finish(batch)
        return items
    }

    /// Reads several values in one batched round trip per server involved, lending each value found to `body`
    /// without copying it: the allocation-free form of ``getMulti(_:)``, with the same handling of failed and
    /// skipped servers.
    ///
    /// - Parameters:
    ///   - keys: The keys, without the pool's key prefix.
    ///   - body: Called once per key found, in the order the servers answer, with the key's UTF-8 bytes (without
    ///     the prefix) and the value; neither may be used after `body` returns.
    /// - Throws: ``MemcachedError`` with code ``MemcachedError/Code/invalidKey`` for the first key memcached refuses,
    ///   naming its position (no key is requested then); with code ``MemcachedError/Code/unavailable`` when every
    ///   key's server is skipped; or when the request failed on every server.
    @inline(__always)
    public func getMulti(
        _ keys: [String],
        each body: (_ key: UnsafeRawBufferPointer, _ value: MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        if keys.isEmpty { return }
        try self.read(keys, try MemcachedKeyBatch(keys, rules: self.keyRules), body)
    }

    /// Requests and fetches the batch's keys. While every breaker is quiet, that is one request for all keys;
    /// otherwise see ``readGuarded(_:_:_:)``.
    @inline(__always)
    private func read(
        _ keys: [String],
        _ batch: MemcachedKeyBatch,
        _ body: (UnsafeRawBufferPointer, MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        guard self.breakers.isQuiet else { return try self.readGuarded(keys, batch, body) }
        try self.checkRequest(batch.request(self.handle), keys)
        try self.fetchEach(keys, batch, asked: nil, body)
    }

    /// Reads the batch under the servers' breakers, one request per server, one after the other, so that a
    /// timeout is counted for the server that did not answer. The keys of a server whose breaker rejects them are
    /// left out, or, with ``MemcachedPool/Configuration/removeFailedServers``, requested from the server they move
    /// to.
    private func readGuarded(
        _ keys: [String],
        _ batch: MemcachedKeyBatch,
        _ body: (UnsafeRawBufferPointer, MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        var direct: [Int: [Int]] = [:]
        var moved: [[CChar]: [Int]] = [:]
        var admissions: [Int: MemcachedBreaker.Admission] = [:]
        var firstSkipped: MemcachedError?
        for position in 0..<batch.count {
            switch batch.withKey(at: position, { self.route($0, admissions: &admissions) }) {
            case .direct(let server):
                direct[server ?? -1, default: []].append(position)
            case .moved(let group):
                moved[group, default: []].append(position)
            case .skipped(let server, let timeouts, let until):
                firstSkipped =
                    firstSkipped ?? self.skipped(keys[position], server: server, timeouts: timeouts, until: until)
            }
        }
        if direct.isEmpty && moved.isEmpty { throw firstSkipped ?? MemcachedError(.failed, "no key was requested") }
        var requests = direct.map { (server: $0.key < 0 ? nil : $0.key, positions: $0.value, group: [CChar]?.none) }
        for (group, positions) in moved {
            let server = group.withUnsafeBufferPointer { group in
                group.withMemoryRebound(to: UInt8.self) { self.servers.position(forKey: $0, handle: self.handle) }
            }
            requests.append((server, positions, group))
        }
        var failure: MemcachedError?
        var answered = false
        for request in requests {
            do throws(MemcachedError) {
                let rc = batch.request(self.handle, positions: request.positions, group: request.group)
                try self.checkRequest(rc, keys)
                try self.fetchEach(keys, batch, asked: request.server.map { [$0] } ?? [], body)
                answered = true
            } catch {
                failure = failure ?? error
            }
        }
        self.breakers.clearSuspicion()
        if !answered, let failure { throw failure }
    }

    /// Where a key of a guarded read goes.
    private enum Route {
        /// Requested from its server (`nil` when libmemcached names one outside the pool's list).
        case direct(server: Int?)
        /// Requested with this group key, from the server its own is moved to.
        case moved(group: [CChar])
        /// Not requested: its server is skipped.
        case skipped(server: Int, timeouts: Int, until: ContinuousClock.Instant)
    }

    /// Routes a key; each server's breaker is asked once per read (`admissions` keeps its answer).
    private func route(
        _ key: UnsafeBufferPointer<UInt8>,
        admissions: inout [Int: MemcachedBreaker.Admission]
    ) -> Route {
        guard let server = self.servers.position(forKey: key, handle: self.handle) else { return .direct(server: nil) }
        let admission = admissions[server] ?? self.breakers.admit(server)
        admissions[server] = admission
        guard case .reject(let timeouts, let until) = admission else { return .direct(server: server) }
        if self.movesKeys, let group = self.breakers.groupKey(forKey: key, awayFrom: server, handle: self.handle) {
            return .moved(group: group)
        }
        return .skipped(server: server, timeouts: timeouts, until: until)
    }

    /// Checks the return code of a multi-key request; after a timeout, closes the sockets.
    private func checkRequest(_ rc: memcached_return_t, _ keys: [String]) throws(MemcachedError) {
        if MemcachedOutcome.mayBeTimeout(rc), MemcachedOutcome(rc, handle: self.handle) == .timedOut {
            memcached_quit(self.handle)
        }
        guard memcached_success(rc) || rc == MEMCACHED_SOME_ERRORS else {
            throw self.failure(rc, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
    }

    @inline(__always)
    private func fetchEach(
        _ keys: [String],
        _ batch: MemcachedKeyBatch,
        asked: Set<Int>?,
        _ body: (UnsafeRawBufferPointer, MemcachedValueView) -> Void
    ) throws(MemcachedError) {
        let result = UnsafeMutablePointer<memcached_result_st>.allocate(capacity: 1)
        defer { result.deallocate() }
        guard memcached_result_create(self.handle, result) != nil else {
            throw MemcachedError(.failed, "memcached_result_create failed (out of memory)")
        }
        defer { memcached_result_free(result) }
        let key = UnsafeRawPointer(result) + MemoryLayout<memcached_result_st>.offset(of: \.item_key)!
        var lastError: memcached_return_t?
        var found = 0
        while true {
            var rc = MEMCACHED_SUCCESS
            guard memcached_fetch_result(self.handle, result, &rc) != nil else {
                if rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND && memcached_failed(rc) { lastError = rc }
                break
            }
            found += 1
            // The fields of the public `memcached_result_st`, read in place: what `memcached_result_key_value`,
            // `memcached_result_value` and the other accessors return, without six calls through the PLT.
            let value = result.pointee.value
            body(
                UnsafeRawBufferPointer(start: key, count: result.pointee.key_length),
                MemcachedValueView(
                    bytes: UnsafeRawBufferPointer(
                        start: value.string,
                        count: value.string.map { value.end - $0 } ?? 0
                    ),
                    flags: result.pointee.item_flags,
                    cas: result.pointee.item_cas
                )
            )
        }
        self.settle(batch, lastError: lastError, asked: asked)
        if found == 0, let lastError {
            throw self.failure(lastError, key: keys.count == 1 ? keys[0] : nil, operation: "getMulti")
        }
    }

    /// Records how the servers of a multi-key read did for their breakers, and closes the sockets after a
    /// timeout, so that the next caller does not read a late answer (or wait for it).
    ///
    /// A server timed out when it still owes answers (with two or more servers pending, libmemcached stops at the
    /// poll timeout without an error), or when the read ended in a timeout and all the batch's keys are on it.
    /// libmemcached does not say which server a read that ended in a timeout waited for last: when the keys are on
    /// several servers and none still owes answers, the breakers are told of a suspicion instead, and the next
    /// reads ask each server on its own (``readGuarded(_:_:_:)``). With `asked` (the read is guarded), the servers
    /// asked that did not time out count as answered.
    private func settle(_ batch: MemcachedKeyBatch, lastError: memcached_return_t?, asked: Set<Int>?) {
        var timedOut = Set(self.servers.positionsOwingAnswers(self.handle))
        let endedInTimeout = lastError.map { MemcachedOutcome($0, handle: self.handle) == .timedOut } ?? false
        if endedInTimeout && timedOut.isEmpty {
            let servers =
                asked
                ?? Set(
                    (0..<batch.count).compactMap { position in
                        batch.withKey(at: position) { self.servers.position(forKey: $0, handle: self.handle) }
                    }
                )
            if servers.count == 1 {
                timedOut = servers
            } else {
                self.breakers.suspectUnattributedTimeout()
            }
        }
        for position in timedOut { self.breakers.record(.timedOut, at: position) }
        if let asked {
            for position in asked.subtracting(timedOut) { self.breakers.record(.answered, at: position) }
        }
        if endedInTimeout || !timedOut.isEmpty { memcached_quit(self.handle) }
    }
}

/// A copy of bytes as an array: one allocation and a `memcpy`, through `Array`'s specialized initializer from a
/// typed buffer (`init(unsafeUninitializedCapacity:)` went through the generic, unspecialized allocation).
func copyBytes(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count))
}
