// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// An ephemeral node the client keeps: a registration or an ephemeral key, created again after a session expiry.
final class EphemeralNode: Sendable {
    /// The path asked for; for a sequential node, the prefix of its name.
    let requestedPath: String
    let data: [UInt8]
    let isSequential: Bool
    /// What the node is, for logs: `registration of web/a at 10.0.0.1:80` or `ephemeral key /test/a`.
    let label: String
    private let current = Mutex<(path: String, generation: Int)?>(nil)

    init(path: String, data: [UInt8], isSequential: Bool, label: String) {
        self.requestedPath = path
        self.data = data
        self.isSequential = isSequential
        self.label = label
    }

    /// The node's actual path (with its sequence number) and the session generation it was created in; `nil` before
    /// it was first created.
    var created: (path: String, generation: Int)? {
        get { self.current.withLock { $0 } }
        set { self.current.withLock { $0 = newValue } }
    }
}

/// Whether a ``ZooKeeperClient``'s `run()` started, and the ephemeral nodes it keeps.
final class ZooKeeperLifecycle: Sendable {
    enum Start {
        case started
        case alreadyStarted
        /// The client was closed before `run()` started: there is nothing to run.
        case closed
    }

    private struct State {
        var runStarted = false
        var accepting = true
        var live: [ObjectIdentifier: EphemeralNode] = [:]
    }

    private let state = Mutex(State())

    /// Records that `run()` started.
    func start() -> Start {
        self.state.withLock { state in
            if state.runStarted { return .alreadyStarted }
            state.runStarted = true
            return state.accepting ? .started : .closed
        }
    }

    /// Adds a node to keep; `false` once nodes are no longer accepted (`run()` ended or the client closed).
    func add(_ node: EphemeralNode) -> Bool {
        self.state.withLock { state in
            guard state.accepting else { return false }
            state.live[ObjectIdentifier(node)] = node
            return true
        }
    }

    /// Whether a node is still kept (not withdrawn).
    func contains(_ node: EphemeralNode) -> Bool {
        self.state.withLock { $0.live[ObjectIdentifier(node)] != nil }
    }

    /// Forgets a withdrawn node; `false` when it was already forgotten.
    func remove(_ node: EphemeralNode) -> Bool {
        self.state.withLock { $0.live.removeValue(forKey: ObjectIdentifier(node)) != nil }
    }

    /// The nodes kept now.
    var live: [EphemeralNode] { self.state.withLock { Array($0.live.values) } }

    /// Stops accepting nodes; returns those still kept (once: later calls return none).
    func finish() -> [EphemeralNode] {
        self.state.withLock { state in
            state.accepting = false
            defer { state.live = [:] }
            return Array(state.live.values)
        }
    }
}
