// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ZooKeeperClient: DiscoverySource {
    /// Reads one key: the data of the node at that path.
    ///
    /// - Parameter key: The node's path.
    /// - Returns: The entry (version = the node's `mzxid`), or `nil` when the node does not exist or holds no data.
    /// - Throws: ``ZooKeeperError``; code ``ZooKeeperError/Code/invalidArgument`` for a key ZooKeeper refuses as a
    ///   path (not starting with `/`, ending with `/`).
    public func get(_ key: String) async throws -> KeyValue? {
        let outcome = try await self.perform("get", .getData(path: key, watch: nil))
        if outcome.code == ReturnCode.noNode { return nil }
        guard outcome.code == ReturnCode.ok, case .data(let data, let stat) = outcome.reply else {
            throw self.failure(outcome, "get", path: key)
        }
        return data.isEmpty ? nil : KeyValue(key: key, value: data, version: UInt64(max(stat.mzxid, 0)))
    }

    /// Reads every node below a prefix that holds data, at any depth.
    ///
    /// `/memcached/servers/` lists `/memcached/servers/a` and `/memcached/servers/pool/b`; nodes without data (such as
    /// `/memcached/servers/pool`) are not entries. A prefix that does not end in `/` also matches the siblings that
    /// start with it. The cost is two reads per node below the prefix (its data and its children), sent together
    /// level by level.
    ///
    /// - Parameter prefix: A key prefix; the empty prefix lists the whole tree except `/zookeeper`.
    /// - Returns: The entries sorted by key; empty when nothing matches or the directory does not exist.
    /// - Throws: ``ZooKeeperError``.
    public func list(prefix: String) async throws -> [KeyValue] {
        try await self.readTree(PrefixScope(prefix), includingEmpty: false).sorted { $0.key < $1.key }
    }

    /// Follows a prefix: whole snapshots, as ``list(prefix:)`` reads them, each time something below it changes.
    ///
    /// ZooKeeper watches fire once. The subscription keeps a data watch and a child watch on every node below the
    /// prefix, and re-arms each one by reading the node again when it fires, so no change between the event and the
    /// re-arming is lost. A read that finds the same `mzxid` (data) and `cversion` (children) changes nothing, and a
    /// snapshot equal to the previous one is not emitted. When the session expires, the subscription reads everything
    /// again on the new session and emits the result if it differs.
    ///
    /// - Parameter prefix: A key prefix, usually ending in `/`.
    /// - Returns: A sequence whose first element is the current state of the prefix.
    public func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch { [self] in
            let follower = TreeFollower(client: self, scope: PrefixScope(prefix))
            return { try await follower.next() }
        }
    }

    /// Reads every node in scope, level by level, without watches.
    ///
    /// - Parameters:
    ///   - scope: The prefix's directory and matching names.
    ///   - includingEmpty: Whether nodes without data are returned too (for deleting a prefix).
    /// - Returns: The nodes, in no particular order.
    /// - Throws: ``ZooKeeperError``.
    func readTree(_ scope: PrefixScope, includingEmpty: Bool) async throws -> [KeyValue] {
        guard scope.isValid else { return [] }
        let top = try await self.perform("list", .getChildren(path: scope.directory, watch: nil))
        if top.code == ReturnCode.noNode { return [] }
        guard top.code == ReturnCode.ok, case .children(let names, _) = top.reply else {
            throw self.failure(top, "list", path: scope.directory)
        }
        var entries: [KeyValue] = []
        var level = names.filter(scope.includes(child:)).map { PrefixScope.path(of: $0, in: scope.directory) }
        while !level.isEmpty {
            var next: [String] = []
            for chunk in level.chunks(of: Self.readChunk) {
                let requests = chunk.flatMap {
                    [Request.getData(path: $0, watch: nil), .getChildren(path: $0, watch: nil)]
                }
                let outcomes = try await self.perform("list", requests)
                for (offset, path) in chunk.enumerated() {
                    let data = outcomes[2 * offset]
                    let children = outcomes[2 * offset + 1]
                    if data.code == ReturnCode.noNode { continue }  // Deleted meanwhile.
                    guard data.code == ReturnCode.ok, case .data(let bytes, let stat) = data.reply else {
                        throw self.failure(data, "list", path: path)
                    }
                    if includingEmpty || !bytes.isEmpty {
                        entries.append(KeyValue(key: path, value: bytes, version: UInt64(max(stat.mzxid, 0))))
                    }
                    if case .children(let names, _) = children.reply, children.code == ReturnCode.ok {
                        next += names.map { PrefixScope.path(of: $0, in: path) }
                    }
                }
            }
            level = next
        }
        return entries
    }

    /// How many nodes are read in one batch (two requests each), to bound the memory of a very large tree.
    static let readChunk = 2048
}

extension Array {
    /// The array cut into consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: self.count, by: size).map { self[$0..<Swift.min($0 + size, self.count)] }
    }
}
