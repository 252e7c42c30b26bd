// SPDX-License-Identifier: Apache-2.0

import Beacon

extension ZooKeeperClient {
    /// How a node is created: persistent or ephemeral (deleted when the client's session ends), and whether ZooKeeper
    /// appends a sequence number to its name.
    public struct CreateMode: Hashable, Sendable {
        /// Whether the node lives only as long as the session that created it.
        public var isEphemeral: Bool
        /// Whether ZooKeeper appends a 10-digit sequence number to the name (`/jobs/job-0000000007`).
        public var isSequential: Bool

        /// Creates a mode.
        ///
        /// - Parameters:
        ///   - isEphemeral: Whether the node lives only as long as the session.
        ///   - isSequential: Whether ZooKeeper appends a sequence number.
        public init(isEphemeral: Bool, isSequential: Bool) {
            self.isEphemeral = isEphemeral
            self.isSequential = isSequential
        }

        /// A node that stays until it is deleted.
        public static let persistent = CreateMode(isEphemeral: false, isSequential: false)
        /// A persistent node whose name gets a sequence number.
        public static let persistentSequential = CreateMode(isEphemeral: false, isSequential: true)
        /// A node deleted when the session ends (closed, or expired after the session timeout).
        public static let ephemeral = CreateMode(isEphemeral: true, isSequential: false)
        /// An ephemeral node whose name gets a sequence number.
        public static let ephemeralSequential = CreateMode(isEphemeral: true, isSequential: true)
    }

    // MARK: Reading

    /// Reads a node: its data (empty when it holds none) and its metadata.
    ///
    /// Unlike ``get(_:)``, this returns nodes that hold no data too.
    ///
    /// - Parameter path: The node's path.
    /// - Returns: The node, or `nil` when it does not exist.
    /// - Throws: ``ZooKeeperError``.
    public func node(at path: String) async throws -> Node? {
        let outcome = try await self.perform("get", .getData(path: path, watch: nil))
        if outcome.code == ReturnCode.noNode { return nil }
        guard outcome.code == ReturnCode.ok, case .data(let data, let stat) = outcome.reply else {
            throw self.failure(outcome, "get", path: path)
        }
        return Node(path: path, data: data, stat: stat)
    }

    /// Lists a node's children.
    ///
    /// - Parameter path: The node's path.
    /// - Returns: The children's names (not paths), sorted.
    /// - Throws: ``ZooKeeperError`` with code ``ZooKeeperError/Code/noNode`` when the node does not exist.
    public func children(of path: String) async throws -> [String] {
        let outcome = try await self.perform("children", .getChildren(path: path, watch: nil))
        guard outcome.code == ReturnCode.ok, case .children(let names, _) = outcome.reply else {
            throw self.failure(outcome, "children", path: path)
        }
        return names.sorted()
    }

    /// Reads a node's metadata.
    ///
    /// - Parameter path: The node's path.
    /// - Returns: The metadata, or `nil` when the node does not exist.
    /// - Throws: ``ZooKeeperError``.
    public func exists(_ path: String) async throws -> NodeStat? {
        let outcome = try await self.perform("exists", .exists(path: path, watch: nil))
        if outcome.code == ReturnCode.noNode { return nil }
        guard outcome.code == ReturnCode.ok, case .stat(let stat) = outcome.reply else {
            throw self.failure(outcome, "exists", path: path)
        }
        return stat
    }

    // MARK: Writing

    /// Creates a node.
    ///
    /// - Parameters:
    ///   - path: The node's path; for a sequential node, the prefix of its name.
    ///   - data: The node's data.
    ///   - mode: Persistent or ephemeral, sequential or not.
    ///   - acl: The node's ACL; `nil` uses ``Configuration/acl``.
    ///   - makeParents: Whether to create missing parents first (as persistent nodes without data).
    /// - Returns: The created node's path (with its sequence number, for a sequential node).
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/nodeExists``; ``ZooKeeperError/Code/noNode`` when the parent
    ///   is missing and `makeParents` is `false`; ``ZooKeeperError/Code/notAuthorized``.
    @discardableResult
    public func create(
        _ path: String,
        data: [UInt8] = [],
        mode: CreateMode = .persistent,
        acl: [ZooKeeperACL]? = nil,
        makeParents: Bool = false
    ) async throws -> String {
        try await self.createNode(path, data: data, mode: mode, acl: acl, makeParents: makeParents).path
    }

    /// Creates a node and returns its path and metadata; see ``create(_:data:mode:acl:makeParents:)``.
    func createNode(
        _ path: String,
        data: [UInt8],
        mode: CreateMode,
        acl: [ZooKeeperACL]? = nil,
        makeParents: Bool,
        ignoringCancellation: Bool = false
    ) async throws -> (path: String, stat: NodeStat) {
        let request = Request.create(
            path: path,
            data: data,
            ephemeral: mode.isEphemeral,
            sequential: mode.isSequential,
            acl: acl ?? self.configuration.acl
        )
        var outcome = try await self.perform("create", request, ignoringCancellation: ignoringCancellation)
        if outcome.code == ReturnCode.noNode && makeParents {
            try await self.createParents(of: path, ignoringCancellation: ignoringCancellation)
            outcome = try await self.perform("create", request, ignoringCancellation: ignoringCancellation)
        }
        guard outcome.code == ReturnCode.ok, case .created(let created, let stat) = outcome.reply else {
            throw self.failure(outcome, "create", path: path)
        }
        return (created, stat)
    }

    /// Creates every missing ancestor of a path, from the top, as persistent nodes without data.
    private func createParents(of path: String, ignoringCancellation: Bool) async throws {
        var ancestors: [String] = []
        var end = path.endIndex
        while let slash = path[..<end].lastIndex(of: "/"), slash != path.startIndex {
            ancestors.append(String(path[..<slash]))
            end = slash
        }
        for ancestor in ancestors.reversed() {
            let request = Request.create(
                path: ancestor,
                data: [],
                ephemeral: false,
                sequential: false,
                acl: self.configuration.acl
            )
            let outcome = try await self.perform("create", request, ignoringCancellation: ignoringCancellation)
            guard outcome.code == ReturnCode.ok || outcome.code == ReturnCode.nodeExists else {
                throw self.failure(outcome, "create", path: ancestor)
            }
        }
    }

    /// Replaces a node's data.
    ///
    /// - Parameters:
    ///   - path: The node's path.
    ///   - data: The new data.
    ///   - expectedVersion: The node's ``NodeStat/version`` as read, for a compare-and-set; `nil` writes whatever
    ///     the version.
    /// - Returns: The node's new metadata.
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/noNode``; ``ZooKeeperError/Code/badVersion`` when the
    ///   version is not the expected one.
    @discardableResult
    public func setData(_ path: String, _ data: [UInt8], expectedVersion: Int32? = nil) async throws -> NodeStat {
        let outcome = try await self.perform("set", .setData(path: path, data: data, version: expectedVersion ?? -1))
        guard outcome.code == ReturnCode.ok, case .stat(let stat) = outcome.reply else {
            throw self.failure(outcome, "set", path: path)
        }
        return stat
    }

    /// Writes a key as etcd's put does: creates the node (and its missing parents) or replaces its data.
    ///
    /// - Parameters:
    ///   - key: The node's path.
    ///   - value: The bytes to store.
    /// - Returns: The node's new `mzxid` (the entry's version).
    /// - Throws: ``ZooKeeperError``.
    @discardableResult
    public func put(_ key: String, bytes value: [UInt8]) async throws -> UInt64 {
        while true {
            let outcome = try await self.perform("put", .setData(path: key, data: value, version: -1))
            if outcome.code == ReturnCode.ok, case .stat(let stat) = outcome.reply { return UInt64(stat.mzxid) }
            guard outcome.code == ReturnCode.noNode else { throw self.failure(outcome, "put", path: key) }
            do {
                let created = try await self.createNode(key, data: value, mode: .persistent, makeParents: true)
                return UInt64(created.stat.mzxid)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue  // Created meanwhile by someone else: write over it.
            }
        }
    }

    /// Writes a text key; see ``put(_:bytes:)``.
    ///
    /// - Parameters:
    ///   - key: The node's path.
    ///   - value: The text to store as UTF-8.
    /// - Returns: The node's new `mzxid`.
    /// - Throws: ``ZooKeeperError``.
    @discardableResult
    public func put(_ key: String, _ value: String) async throws -> UInt64 {
        try await self.put(key, bytes: Array(value.utf8))
    }

    /// Deletes a node.
    ///
    /// - Parameters:
    ///   - path: The node's path.
    ///   - expectedVersion: The node's ``NodeStat/version`` as read; `nil` deletes whatever the version.
    /// - Returns: `true` when the node existed.
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/notEmpty`` when the node has children;
    ///   ``ZooKeeperError/Code/badVersion``.
    @discardableResult
    public func delete(_ path: String, expectedVersion: Int32? = nil) async throws -> Bool {
        try await self.delete(path, expectedVersion: expectedVersion, ignoringCancellation: false)
    }

    func delete(_ path: String, expectedVersion: Int32?, ignoringCancellation: Bool) async throws -> Bool {
        let outcome = try await self.perform(
            "delete",
            .delete(path: path, version: expectedVersion ?? -1),
            ignoringCancellation: ignoringCancellation
        )
        if outcome.code == ReturnCode.noNode { return false }
        guard outcome.code == ReturnCode.ok else { throw self.failure(outcome, "delete", path: path) }
        return true
    }

    /// Deletes every node below a prefix, deepest first, as etcd's delete of a prefix does.
    ///
    /// With `/a/b/`, the nodes below `/a/b` go and `/a/b` stays; with `/a/b`, `/a/b`, `/a/bc` and everything below
    /// them go.
    ///
    /// - Parameter prefix: A key prefix (not empty, not `/`).
    /// - Returns: How many nodes were deleted.
    /// - Throws: ``ZooKeeperError``.
    @discardableResult
    public func delete(prefix: String) async throws -> Int {
        precondition(!prefix.isEmpty && prefix != "/", "deleting the empty prefix would delete the whole tree")
        let nodes = try await self.readTree(PrefixScope(prefix), includingEmpty: true).map(\.key)
        var deleted = 0
        // Deepest first, so that each node is a leaf when its turn comes.
        for path in nodes.sorted(by: { $0.count > $1.count }) where try await self.delete(path) {
            deleted += 1
        }
        return deleted
    }
}
