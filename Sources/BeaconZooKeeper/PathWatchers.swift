// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconZooKeeper

/// What a one-shot ZooKeeper watch reported for a path, or that the session was replaced.
enum WatchSignal: Sendable {
    /// The node's data changed.
    case dataChanged(String)
    /// The node was created (a watch armed by `exists` on an absent node).
    case created(String)
    /// The node was deleted.
    case deleted(String)
    /// The node's children changed.
    case childrenChanged(String)
    /// The session expired and a new one replaced it: every watch is gone, the subscriber must read everything again.
    case sessionRenewed
}

/// Routes ZooKeeper watch events to the watch subscriptions that armed them.
///
/// libzookeeper keeps a (function, context) pair for each armed watch until it fires, and a watch may never fire.
/// The context is therefore not a pointer to a Swift object, which could be freed meanwhile, but a number (a tag)
/// looked up here: events for a subscription that has ended find no tag and are dropped.
enum PathWatchers {
    private struct Table {
        var nextTag: UInt = 1
        var subscribers: [UInt: WatchSignals] = [:]
    }

    private static let table = Lock(Table())

    /// Registers a subscriber; its tag is the context of the watches it arms.
    static func add(_ signals: WatchSignals) -> UInt {
        self.table.withLock { table in
            let tag = table.nextTag
            table.nextTag += 1
            table.subscribers[tag] = signals
            return tag
        }
    }

    /// Forgets a subscriber: its watches that fire later are dropped.
    static func remove(_ tag: UInt) {
        _ = self.table.withLock { $0.subscribers.removeValue(forKey: tag) }
    }

    /// Delivers a signal to one subscriber, if it is still there.
    static func deliver(_ signal: WatchSignal, to tag: UInt) {
        let signals = self.table.withLock { $0.subscribers[tag] }
        signals?.post(signal)
    }

    /// The watcher function of every path watch, called on libzookeeper's completion thread.
    ///
    /// Session events reach every armed watcher too (connecting, connected, expired); they are the session's
    /// business (``ZooKeeperSession``), so they are ignored here.
    static let watcher: watcher_fn = { _, type, _, path, context in
        guard let context, type != ZOO_SESSION_EVENT, let path else { return }
        let tag = UInt(bitPattern: context)
        let node = String(cString: path)
        let signal: WatchSignal
        switch type {
        case ZOO_CHANGED_EVENT: signal = .dataChanged(node)
        case ZOO_CREATED_EVENT: signal = .created(node)
        case ZOO_DELETED_EVENT: signal = .deleted(node)
        case ZOO_CHILD_EVENT: signal = .childrenChanged(node)
        default: return  // ZOO_NOTWATCHING_EVENT: the watch was removed; nothing changed.
        }
        PathWatchers.deliver(signal, to: tag)
    }
}

/// The signals of one watch subscription: posted by libzookeeper's completion thread, taken by the subscription's
/// task, which waits when there are none.
final class WatchSignals: Sendable {
    private struct State {
        var signals: [WatchSignal] = []
        var waiters = Waiters()
    }

    private let state = Lock(State())

    /// Adds a signal and wakes the waiting task.
    func post(_ signal: WatchSignal) {
        let waiters = self.state.withLock { state in
            state.signals.append(signal)
            return state.waiters.removeAll()
        }
        waiters.resume()
    }

    /// Takes every signal posted so far, without waiting.
    func take() -> [WatchSignal] {
        self.state.withLock { state in
            defer { state.signals = [] }
            return state.signals
        }
    }

    /// Waits until a signal is posted (returns at once if one is there), or the task is cancelled.
    func wait() async {
        await self.state.wait(in: \.waiters) { !$0.signals.isEmpty }
    }
}
