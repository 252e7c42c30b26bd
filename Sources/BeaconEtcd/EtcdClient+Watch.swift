// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconHTTP
import Logging

extension EtcdClient {
    /// Follows a prefix: whole snapshots, the first being the current state.
    ///
    /// The watch lists the prefix, then streams etcd's events from the revision after the listing, applying
    /// them to its copy and emitting a snapshot after each batch (a transaction's writes arrive together).
    /// When the stream breaks (a member died, the connection dropped) it moves to the next endpoint and
    /// resumes from the last revision it applied plus one, so no event is lost or repeated. When that revision
    /// has been compacted, it lists the prefix again and continues from there. It ends only when the iterating
    /// task is cancelled (or throws for errors that retrying cannot fix, such as permission denied).
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The watch.
    public func watch(prefix: String) -> DiscoveryWatch {
        self.watch(prefix: prefix, startRevision: nil)
    }

    /// A watch that starts streaming at a given revision instead of listing first (tests use it to start
    /// from a compacted revision).
    func watch(prefix: String, startRevision: Int64?) -> DiscoveryWatch {
        DiscoveryWatch { [self] in
            let follower = EtcdSnapshotFollower(
                EtcdWatchFollower(client: self, prefix: prefix, startRevision: startRevision)
            )
            return { try await follower.next() }
        }
    }

    /// Follows a prefix as etcd's own events: a reset batch with the listing first, then one batch per watch message
    /// (a transaction's writes arrive together), each holding only the events it carries.
    ///
    /// A change costs O(change): the subscription keeps no copy of the prefix, and a batch is built from the events
    /// alone. Deletes carry the revision of the delete as their version; a delete of a prefix arrives as one batch of
    /// deletes. Reconnecting resumes from the last revision delivered plus one, so no event is lost or repeated. When
    /// that revision has been compacted, the prefix is listed again and delivered as a reset batch (O(prefix), as the
    /// first one). Cancellation and errors behave as in ``watch(prefix:)``.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The sequence of change batches.
    public func changes(prefix: String) -> DiscoveryChanges {
        self.changes(prefix: prefix, startRevision: nil)
    }

    /// A change stream that starts at a given revision instead of listing first (tests use it to start from a
    /// compacted revision).
    func changes(prefix: String, startRevision: Int64?) -> DiscoveryChanges {
        DiscoveryChanges { [self] in
            let follower = EtcdWatchFollower(client: self, prefix: prefix, startRevision: startRevision)
            return { try await follower.nextBatch() }
        }
    }
}

/// Folds a subscription's change batches into whole snapshots; owned by one iterator, never shared.
final class EtcdSnapshotFollower {
    private let events: EtcdWatchFollower
    private var entries: [String: KeyValue] = [:]
    private var lastEmitted: DiscoverySnapshot?

    init(_ events: EtcdWatchFollower) {
        self.events = events
    }

    /// Returns the next snapshot that differs from the last one emitted, or `nil` once cancelled.
    func next() async throws -> DiscoverySnapshot? {
        while let batch = try await self.events.nextBatch() {
            if batch.isReset {
                self.entries = Dictionary(batch.changes.map { ($0.key, $0.entry) }) { _, last in last }
            } else {
                for change in batch.changes {
                    self.entries[change.key] = change.kind == .put ? change.entry : nil
                }
            }
            let snapshot = DiscoverySnapshot(prefix: self.events.prefix, entries: Array(self.entries.values))
            if snapshot != self.lastEmitted {
                self.lastEmitted = snapshot
                return snapshot
            }
        }
        return nil
    }
}

/// The event stream of one watch subscription; owned by one iterator, never shared.
final class EtcdWatchFollower {
    private let client: EtcdClient
    let prefix: String
    /// The last revision whose events have been delivered.
    private var revision: Int64
    private var needsListing: Bool
    private var stream: HTTPResponseStream.AsyncIterator?
    /// The open stream itself, which the liveness check aborts (the iterator is only the consumer's side).
    private var openedStream: HTTPResponseStream?
    private var streamEndpoint: String?
    private var buffer: [UInt8] = []
    private var retryDelay: Duration
    /// The health check of the stream's member, unless turned off.
    private let check: EtcdMemberCheck?

    init(client: EtcdClient, prefix: String, startRevision: Int64?) {
        self.client = client
        self.check = EtcdMemberCheck(client: client)
        self.prefix = prefix
        self.revision = (startRevision ?? 1) - 1
        self.needsListing = startRevision == nil
        self.retryDelay = client.configuration.watchRetryDelay
    }

    /// Returns the next batch: the listing as a reset batch, or the events of one watch message; `nil` once
    /// cancelled.
    func nextBatch() async throws -> DiscoveryChangeBatch? {
        while !Task.isCancelled {
            do {
                if self.needsListing {
                    let listing = try await self.client.listWithRevision(prefix: self.prefix)
                    self.revision = listing.revision
                    self.needsListing = false
                    return DiscoveryChangeBatch(
                        isReset: true,
                        changes: listing.entries.map(DiscoveryChange.put),
                        revision: UInt64(max(listing.revision, 0))
                    )
                }
                if self.stream == nil { try await self.openStream() }
                guard let line = try await self.nextLine() else {
                    self.dropStream(reason: "the server ended the stream")
                    continue
                }
                if let batch = try self.handle(line) { return batch }
            } catch is CancellationError {
                return nil
            } catch let error as EtcdError
                where error.code == .permissionDenied || error.code == .authenticationFailed || error.code == .closed
            {
                throw error
            } catch let error as HTTPError where error.code == .closed {
                throw EtcdError(.closed, EtcdTransport.closedMessage(error), operation: "watch", underlying: error)
            } catch {
                if Task.isCancelled { return nil }
                self.dropStream(reason: "\(error)")
                do {
                    try await Task.sleep(for: self.retryDelay)
                } catch {
                    return nil
                }
                self.retryDelay = min(self.retryDelay * 2, .seconds(5))
            }
        }
        return nil
    }

    private func openStream() async throws {
        let key = WireBytes(self.prefix.isEmpty ? [0] : Array(self.prefix.utf8))
        let request = WireWatchRequest(
            create_request: .init(
                key: key,
                range_end: key.prefixRangeEnd,
                start_revision: WireInt64(self.revision + 1),
                progress_notify: true
            )
        )
        let open = {
            @Sendable [transport = self.client.transport, idleTimeout = self.client.configuration.watchIdleTimeout] in
            try await transport.openStream("watch", path: "/v3/watch", body: request.json, idleTimeout: idleTimeout)
        }
        // A member that accepts the connection but never answers would hold the opening for ever: check it too.
        let candidate = self.client.transport.currentEndpoint
        self.streamEndpoint = candidate
        let (stream, endpoint): (HTTPResponseStream, String)
        if let check = self.check {
            (stream, endpoint) = try await check.run(against: candidate, open)
        } else {
            (stream, endpoint) = try await open()
        }
        self.stream = stream.makeAsyncIterator()
        self.openedStream = stream
        self.streamEndpoint = endpoint
        self.buffer.removeAll(keepingCapacity: true)
        self.client.logger.debug(
            "Watching",
            metadata: [
                "beacon.etcd.prefix": "\(self.prefix)", "beacon.etcd.endpoint": "\(endpoint)",
                "beacon.etcd.revision": "\(self.revision + 1)",
            ]
        )
    }

    /// Ends the current stream (or the attempt to open one); the next call reconnects, to the next endpoint if this
    /// one failed.
    private func dropStream(reason: String) {
        guard self.stream != nil || self.streamEndpoint != nil else { return }
        self.stream = nil
        self.openedStream = nil
        if let endpoint = self.streamEndpoint {
            self.client.transport.moveOn(from: endpoint)
            self.client.logger.info(
                "Watch stream broke; resuming on the next endpoint",
                metadata: [
                    "beacon.etcd.prefix": "\(self.prefix)", "beacon.etcd.endpoint": "\(endpoint)",
                    "beacon.etcd.revision": "\(self.revision + 1)", "beacon.error": "\(reason)",
                ]
            )
        }
        self.streamEndpoint = nil
    }

    /// The next newline-terminated message; at the end of the stream, what is left (etcd's closing error
    /// message has no newline); `nil` when nothing is left.
    private func nextLine() async throws -> [UInt8]? {
        while true {
            if let newline = self.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(self.buffer[..<newline])
                self.buffer.removeSubrange(...newline)
                if line.isEmpty { continue }
                return line
            }
            guard var stream = self.stream else { return nil }
            let chunk = try await self.nextChunk(&stream)
            self.stream = stream
            guard let chunk else {
                defer { self.buffer.removeAll() }
                return self.buffer.isEmpty ? nil : self.buffer
            }
            self.buffer += chunk
        }
    }

    /// The stream's next chunk, read while the member's health is checked (see ``EtcdMemberCheck``).
    private func nextChunk(_ stream: inout HTTPResponseStream.AsyncIterator) async throws -> [UInt8]? {
        guard let check = self.check, let opened = self.openedStream, let endpoint = self.streamEndpoint else {
            return try await stream.next()
        }
        return try await check.next(&stream, of: opened, from: endpoint)
    }

    /// Reads one message; returns the batch of its events, if it has any.
    private func handle(_ line: [UInt8]) throws -> DiscoveryChangeBatch? {
        let message: WireWatchMessage
        do {
            message = try WireWatchMessage(document: line)
        } catch {
            throw EtcdError(
                .invalidResponse,
                "a watch message is not the expected JSON",
                operation: "watch",
                target: self.streamEndpoint,
                underlying: error
            )
        }
        if let error = message.error {
            self.dropStream(reason: error.message ?? "the server closed the watch")
            return nil
        }
        guard let result = message.result else { return nil }
        if result.canceled == true {
            return try self.handleCancellation(result)
        }
        if let events = result.events, !events.isEmpty {
            var changes: [DiscoveryChange] = []
            changes.reserveCapacity(events.count)
            for event in events {
                let entry = EtcdClient.keyValue(event.kv)
                changes.append(event.type == "DELETE" ? .delete(entry.key, version: entry.version) : .put(entry))
                self.revision = max(self.revision, Int64(entry.version))
            }
            self.retryDelay = self.client.configuration.watchRetryDelay
            return DiscoveryChangeBatch(isReset: false, changes: changes, revision: UInt64(max(self.revision, 0)))
        }
        if result.created != true, let revision = result.header?.revision?.value {
            // A progress notification: every event up to this revision has been delivered.
            self.revision = max(self.revision, revision)
        }
        return nil
    }

    private func handleCancellation(_ result: WireWatchMessage.Result) throws -> DiscoveryChangeBatch? {
        let reason = result.cancel_reason ?? ""
        if let compacted = result.compact_revision?.value, compacted > 0 {
            self.client.logger.info(
                "Watch revision was compacted; listing the prefix again",
                metadata: [
                    "beacon.etcd.prefix": "\(self.prefix)", "beacon.etcd.revision": "\(self.revision + 1)",
                    "beacon.etcd.compact_revision": "\(compacted)",
                ]
            )
            self.stream = nil
            self.needsListing = true
            return nil
        }
        if reason.contains("permission denied") {
            throw EtcdError(.permissionDenied, reason, operation: "watch", target: self.streamEndpoint)
        }
        if reason.contains("auth token") || reason.contains("user name is empty") {
            self.client.transport.invalidateToken()
        }
        self.stream = nil
        throw EtcdError(.server, reason.isEmpty ? "the watch was canceled" : reason, operation: "watch")
    }
}
