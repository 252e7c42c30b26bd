// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconZooKeeper

/// One asynchronous libzookeeper request, as the client issues it.
enum Request: Sendable {
    /// `zoo_awget`: a node's data and stat; with a watch tag, arms a data watch (changed, deleted).
    case getData(path: String, watch: UInt?)
    /// `zoo_awget_children2`: a node's children and stat; with a watch tag, arms a child watch.
    case getChildren(path: String, watch: UInt?)
    /// `zoo_awexists`: a node's stat or `ZNONODE`; with a watch tag, arms a watch that also fires on creation.
    case exists(path: String, watch: UInt?)
    /// `zoo_acreate2`: creates a node; the reply holds the actual path (sequential nodes add a suffix).
    case create(path: String, data: [UInt8], ephemeral: Bool, sequential: Bool, acl: [ZooKeeperACL])
    /// `zoo_aset`: replaces a node's data; version `-1` writes whatever the version.
    case setData(path: String, data: [UInt8], version: Int32)
    /// `zoo_adelete`: deletes a node; version `-1` deletes whatever the version.
    case delete(path: String, version: Int32)

    /// The path the request is about.
    var path: String {
        switch self {
        case .getData(let path, _), .getChildren(let path, _), .exists(let path, _), .create(let path, _, _, _, _),
            .setData(let path, _, _), .delete(let path, _):
            path
        }
    }
}

/// What a completed request answered.
enum Reply: Sendable {
    case data([UInt8], ZooKeeperClient.NodeStat)
    case children([String], ZooKeeperClient.NodeStat)
    case stat(ZooKeeperClient.NodeStat)
    case created(String, ZooKeeperClient.NodeStat)
    case done
}

/// A request's return code and, when it is `ZOK`, its reply.
struct Outcome: Sendable {
    var code: Int32
    var reply: Reply

    static let cancelled = Outcome(code: ReturnCode.cancelled, reply: .done)
    static let timedOut = Outcome(code: ReturnCode.timedOut, reply: .done)
}

/// The outcomes of a batch of requests, filled in by libzookeeper's completion thread, awaited by one task.
///
/// Each request's completion calls ``complete(_:_:)`` once (libzookeeper calls every completion exactly once, with
/// `ZCLOSING` when the handle closes). Cancelling the waiting task completes the batch at once with
/// ``Outcome/cancelled`` for the requests still pending; their completions arrive later and are ignored.
final class PendingReplies: Sendable {
    private struct State {
        var outcomes: [Outcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?
        var finished = false
        /// What the requests that got no answer count as: cancelled, or timed out.
        var unanswered = Outcome.cancelled
    }

    private let state: Lock<State>

    init(count: Int) {
        self.state = Lock(State(outcomes: Array(repeating: nil, count: count), remaining: count))
    }

    /// Records one request's outcome; the last one resumes the waiting task.
    func complete(_ index: Int, _ outcome: Outcome) {
        let resume: (CheckedContinuation<[Outcome], Never>, [Outcome])? = self.state.withLock { state in
            guard !state.finished, state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            state.finished = true
            guard let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.outcomes.map { $0 ?? state.unanswered })
        }
        if let (continuation, outcomes) = resume { continuation.resume(returning: outcomes) }
    }

    /// Ends the batch now: requests still pending count as cancelled.
    func cancel() {
        self.end(unanswered: .cancelled)
    }

    /// Ends the batch now because its deadline passed: requests still pending count as timed out.
    func expire() {
        self.end(unanswered: .timedOut)
    }

    private func end(unanswered: Outcome) {
        let resume: (CheckedContinuation<[Outcome], Never>, [Outcome])? = self.state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.unanswered = unanswered
            guard let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.outcomes.map { $0 ?? unanswered })
        }
        if let (continuation, outcomes) = resume { continuation.resume(returning: outcomes) }
    }

    /// Waits until every request completed, or the batch was cancelled.
    func wait() async -> [Outcome] {
        await withCheckedContinuation { continuation in
            let outcomes: [Outcome]? = self.state.withLock { state in
                if state.finished { return state.outcomes.map { $0 ?? state.unanswered } }
                state.continuation = continuation
                return nil
            }
            if let outcomes { continuation.resume(returning: outcomes) }
        }
    }
}

/// The context libzookeeper hands back to a completion: which batch, which request. Retained while the request is
/// in flight (`Unmanaged.passRetained`), released by the completion.
private final class RequestSlot {
    let pending: PendingReplies
    let index: Int

    init(pending: PendingReplies, index: Int) {
        self.pending = pending
        self.index = index
    }
}

/// The completion functions: C function pointers that capture nothing, called on libzookeeper's completion thread.
/// Pointers they receive are valid only during the call, so everything is copied.
private enum Completions {
    static func finish(_ context: UnsafeRawPointer?, _ outcome: Outcome) {
        guard let context else { return }
        let slot = Unmanaged<RequestSlot>.fromOpaque(context).takeRetainedValue()
        slot.pending.complete(slot.index, outcome)
    }

    static let data: data_completion_t = { code, value, length, stat, context in
        var bytes: [UInt8] = []
        if code == ReturnCode.ok, let value, length > 0 {
            bytes = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
        }
        Completions.finish(context, Outcome(code: code, reply: .data(bytes, ZooKeeperClient.NodeStat(stat))))
    }

    static let children: strings_stat_completion_t = { code, strings, stat, context in
        var names: [String] = []
        if code == ReturnCode.ok, let strings {
            names.reserveCapacity(Int(strings.pointee.count))
            for index in 0..<Int(strings.pointee.count) {
                if let name = strings.pointee.data[index] { names.append(String(cString: name)) }
            }
        }
        Completions.finish(context, Outcome(code: code, reply: .children(names, ZooKeeperClient.NodeStat(stat))))
    }

    static let stat: stat_completion_t = { code, stat, context in
        Completions.finish(context, Outcome(code: code, reply: .stat(ZooKeeperClient.NodeStat(stat))))
    }

    static let created: string_stat_completion_t = { code, path, stat, context in
        let created = code == ReturnCode.ok ? path.map { String(cString: $0) } ?? "" : ""
        Completions.finish(context, Outcome(code: code, reply: .created(created, ZooKeeperClient.NodeStat(stat))))
    }

    static let void: void_completion_t = { code, context in
        Completions.finish(context, Outcome(code: code, reply: .done))
    }
}

extension Request {
    /// Sends the request on a handle; its completion records the outcome at `index` of `pending`.
    ///
    /// Must be called while the handle cannot be closed (``ZooKeeperSession`` holds its lock). When libzookeeper
    /// refuses the request at once (an invalid path, an expired handle), the outcome is recorded here.
    func send(on handle: OpaquePointer, pending: PendingReplies, index: Int) {
        let context = Unmanaged.passRetained(RequestSlot(pending: pending, index: index)).toOpaque()
        let watcher: watcher_fn? = self.watchTag == nil ? nil : PathWatchers.watcher
        let watcherContext = self.watchTag.map { UnsafeMutableRawPointer(bitPattern: $0) } ?? nil
        let code: Int32
        switch self {
        case .getData(let path, _):
            code = zoo_awget(handle, path, watcher, watcherContext, Completions.data, context)
        case .getChildren(let path, _):
            code = zoo_awget_children2(handle, path, watcher, watcherContext, Completions.children, context)
        case .exists(let path, _):
            code = zoo_awexists(handle, path, watcher, watcherContext, Completions.stat, context)
        case .create(let path, let data, let ephemeral, let sequential, let acl):
            let mode = (ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT) | (sequential ? ZOO_SEQUENCE : 0)
            code = ZooKeeperACL.withCVector(acl) { vector in
                data.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        zoo_acreate2(
                            handle,
                            path,
                            chars.baseAddress,
                            Int32(chars.count),
                            vector,
                            mode,
                            Completions.created,
                            context
                        )
                    }
                }
            }
        case .setData(let path, let data, let version):
            code = data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_aset(handle, path, chars.baseAddress, Int32(chars.count), version, Completions.stat, context)
                }
            }
        case .delete(let path, let version):
            code = zoo_adelete(handle, path, version, Completions.void, context)
        }
        guard code != ReturnCode.ok else { return }
        // The completion will not be called (ZBADARGUMENTS, ZINVALIDSTATE), except after a ZMARSHALLINGERROR that
        // may come after the request was queued: then the slot is left to the completion (or leaked, if there is
        // none; that error means memory ran out).
        if code != ReturnCode.marshallingError {
            Unmanaged<RequestSlot>.fromOpaque(context).release()
        }
        pending.complete(index, Outcome(code: code, reply: .done))
    }

    private var watchTag: UInt? {
        switch self {
        case .getData(_, let tag), .getChildren(_, let tag), .exists(_, let tag): tag
        case .create, .setData, .delete: nil
        }
    }
}
