// SPDX-License-Identifier: Apache-2.0

import Beacon

/// One subscription of ``ZooKeeperClient/watch(prefix:)``: the nodes in scope, their watches, and the snapshot last
/// emitted.
///
/// Every node in scope carries a data watch and a child watch (the directory only a child watch, or an `exists`
/// watch while it is missing). A watch that fires marks its node to be read again; reading it re-arms the watch in
/// the same request, so a change made between the event and the read is in what the read returns, and a change made
/// after it fires the watch again. Reads that find the node's `mzxid` or `cversion` unchanged change nothing.
///
/// Used by one task at a time (the iterating one); not `Sendable`.
final class TreeFollower {
    private struct NodeState {
        var data: [UInt8] = []
        var mzxid: Int64 = -1
        var cversion: Int32 = -1
        var children: Set<String> = []
    }

    private let client: ZooKeeperClient
    private let scope: PrefixScope
    private let signals = WatchSignals()
    private let tag: UInt
    /// The directory and every node below it that is in scope, by path.
    private var nodes: [String: NodeState] = [:]
    private var staleData: Set<String> = []
    private var staleChildren: Set<String> = []
    private var lastEmitted: DiscoverySnapshot?
    private var ended = false

    init(client: ZooKeeperClient, scope: PrefixScope) {
        self.client = client
        self.scope = scope
        self.tag = PathWatchers.add(self.signals)
        client.session.addSubscriber(self.tag)
        self.restart()
    }

    deinit {
        self.end()
    }

    /// Forgets every node: the next round reads the whole scope again (at the start, and after a session expiry).
    private func restart() {
        self.nodes = [self.scope.directory: NodeState()]
        self.staleData = []
        self.staleChildren = [self.scope.directory]
    }

    /// Stops routing events here; the watches still armed on the ensemble fire once more, into nothing.
    private func end() {
        guard !self.ended else { return }
        self.ended = true
        PathWatchers.remove(self.tag)
        self.client.session.removeSubscriber(self.tag)
    }

    /// The next snapshot that differs from the last one emitted; `nil` once the task is cancelled.
    func next() async throws -> DiscoverySnapshot? {
        guard self.scope.isValid else {
            // No node can match: the one snapshot is empty.
            defer { self.lastEmitted = DiscoverySnapshot(prefix: self.scope.prefix, entries: []) }
            return self.lastEmitted == nil ? DiscoverySnapshot(prefix: self.scope.prefix, entries: []) : nil
        }
        do {
            while true {
                if Task.isCancelled || self.ended {
                    self.end()
                    return nil
                }
                self.apply(self.signals.take())
                if !self.staleData.isEmpty || !self.staleChildren.isEmpty {
                    try await self.refresh()
                    continue
                }
                let snapshot = self.snapshot()
                if snapshot != self.lastEmitted {
                    self.lastEmitted = snapshot
                    return snapshot
                }
                await self.signals.wait()
            }
        } catch is CancellationError {
            self.end()
            return nil
        } catch {
            self.end()
            throw error
        }
    }

    /// Marks the nodes that the signals concern as stale.
    private func apply(_ signals: [WatchSignal]) {
        for signal in signals {
            switch signal {
            case .dataChanged(let path):
                if self.nodes[path] != nil && path != self.scope.directory { self.staleData.insert(path) }
            case .deleted(let path):
                // Both watches of a deleted node fire and are gone; a node created again under the same name needs
                // both re-armed.
                guard self.nodes[path] != nil else { break }
                if path != self.scope.directory { self.staleData.insert(path) }
                self.staleChildren.insert(path)
            case .created(let path):
                if path == self.scope.directory { self.staleChildren.insert(path) }
            case .childrenChanged(let path):
                if self.nodes[path] != nil { self.staleChildren.insert(path) }
            case .sessionRenewed:
                self.restart()
            }
        }
    }

    /// Reads the stale nodes again (re-arming their watches), in batches.
    private func refresh() async throws {
        let dataPaths = Array(self.staleData)
        let childPaths = Array(self.staleChildren)
        self.staleData = []
        self.staleChildren = []
        let requests =
            dataPaths.map { Request.getData(path: $0, watch: self.tag) }
            + childPaths.map { Request.getChildren(path: $0, watch: self.tag) }
        for chunk in requests.chunks(of: 2 * ZooKeeperClient.readChunk) {
            let outcomes = try await self.client.perform("watch", Array(chunk))
            for (request, outcome) in zip(chunk, outcomes) {
                switch request {
                case .getData(let path, _): try self.applyData(outcome, at: path)
                case .getChildren(let path, _): try await self.applyChildren(outcome, at: path)
                default: break
                }
            }
        }
    }

    private func applyData(_ outcome: Outcome, at path: String) throws {
        guard self.nodes[path] != nil else { return }  // Removed by an earlier answer.
        if outcome.code == ReturnCode.noNode {
            self.remove(path)
            return
        }
        guard outcome.code == ReturnCode.ok, case .data(let data, let stat) = outcome.reply else {
            throw self.client.failure(outcome, "watch", path: path)
        }
        if stat.mzxid != self.nodes[path]?.mzxid {
            self.nodes[path]?.data = data
            self.nodes[path]?.mzxid = stat.mzxid
        }
    }

    private func applyChildren(_ outcome: Outcome, at path: String) async throws {
        guard self.nodes[path] != nil else { return }
        if outcome.code == ReturnCode.noNode {
            if path == self.scope.directory {
                try await self.watchMissingDirectory()
            } else {
                self.remove(path)
            }
            return
        }
        guard outcome.code == ReturnCode.ok, case .children(let names, let stat) = outcome.reply else {
            throw self.client.failure(outcome, "watch", path: path)
        }
        guard stat.cversion != self.nodes[path]?.cversion else { return }
        let isDirectory = path == self.scope.directory
        let current = Set(names.lazy.filter { !isDirectory || self.scope.includes(child: $0) })
        let previous = self.nodes[path]?.children ?? []
        for name in previous.subtracting(current) { self.remove(PrefixScope.path(of: name, in: path)) }
        // New names, and names whose node was found deleted before this answer came (deleted and created again).
        for name in current {
            let child = PrefixScope.path(of: name, in: path)
            guard self.nodes[child] == nil else { continue }
            self.nodes[child] = NodeState()
            self.staleData.insert(child)
            self.staleChildren.insert(child)
        }
        self.nodes[path]?.children = current
        self.nodes[path]?.cversion = stat.cversion
    }

    /// The directory does not exist (or no longer does): nothing is in scope, and an `exists` watch tells when it
    /// appears.
    private func watchMissingDirectory() async throws {
        for child in self.nodes[self.scope.directory]?.children ?? [] {
            self.remove(PrefixScope.path(of: child, in: self.scope.directory))
        }
        self.nodes[self.scope.directory] = NodeState()
        let outcome = try await self.client.perform("watch", .exists(path: self.scope.directory, watch: self.tag))
        if outcome.code == ReturnCode.ok {
            self.staleChildren.insert(self.scope.directory)  // Created in between.
        } else if outcome.code != ReturnCode.noNode {
            throw self.client.failure(outcome, "watch", path: self.scope.directory)
        }
    }

    /// Forgets a node and everything below it.
    private func remove(_ path: String) {
        guard let node = self.nodes.removeValue(forKey: path) else { return }
        self.staleData.remove(path)
        self.staleChildren.remove(path)
        for child in node.children { self.remove(PrefixScope.path(of: child, in: path)) }
    }

    /// The entries in scope: nodes below the directory that hold data.
    private func snapshot() -> DiscoverySnapshot {
        var entries: [KeyValue] = []
        for (path, node) in self.nodes where path != self.scope.directory && !node.data.isEmpty {
            entries.append(KeyValue(key: path, value: node.data, version: UInt64(max(node.mzxid, 0))))
        }
        return DiscoverySnapshot(prefix: self.scope.prefix, entries: entries)
    }
}
