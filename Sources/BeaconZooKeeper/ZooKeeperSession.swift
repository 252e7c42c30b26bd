// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CBeaconZooKeeper
import CoreMetrics
import Foundation
import Logging

/// A libzookeeper handle (`zhandle_t *`), to hand to the thread that closes it.
///
/// `@unchecked Sendable`: libzookeeper_mt allows every call on a handle from any thread, concurrently, except
/// `zookeeper_close`, after which nothing may use the handle. ``ZooKeeperSession`` takes a handle out of its state
/// under its lock before it closes it, on a thread of its own, and makes every other call either while holding that
/// lock (requests, credentials, the session id) or from a callback on the handle's own completion thread (the
/// session event's `zoo_get_current_server` and `zoo_client_id`), which `zookeeper_close` joins before it frees the
/// handle. So no call can run on a handle that is being freed.
struct ZooKeeperHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The client's connection to the ensemble: a libzookeeper handle (its session, its I/O and completion threads),
/// replaced by a new one when the session expires.
///
/// libzookeeper reconnects by itself, to any server of the ensemble, and keeps the session, its ephemeral nodes and
/// its watches across reconnections. What it cannot survive is the expiry of the session (the ensemble heard nothing
/// for a whole session timeout): the handle is then dead. The session opens a new handle at once, on the expired
/// handle's completion thread, and tells the subscribers of watches (``WatchSignal/sessionRenewed``) and the
/// ephemeral nodes' keep-alives (``waitForRenewal(after:)``), which create them again.
final class ZooKeeperSession: Sendable {
    private struct State {
        var handle: ZooKeeperHandle?
        /// Whether the credentials were added to the current handle (they must be before any request is sent).
        var authenticated = false
        /// Bumped each time an expired session is replaced.
        var generation = 0
        var expirations = 0
        var connected = false
        var authenticationFailed = false
        var closed = false
        /// The tags of the watch subscriptions, told when the session is replaced.
        var subscribers: Set<UInt> = []
        /// The tasks waiting for the session to be replaced (``waitForRenewal(after:)``).
        var renewalWaiters = Waiters()
    }

    let configuration: ZooKeeperClient.Configuration
    let logger: Logger
    private let state: Lock<State>
    /// This session's tag: the context of its handles' global watcher.
    private let tag: UInt
    private let expirationCounter: Counter

    init(configuration: ZooKeeperClient.Configuration, logger: Logger) throws(ZooKeeperError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.state = Lock(State())
        self.expirationCounter = Counter(label: "beacon_zookeeper_session_expirations_total")
        self.tag = Sessions.reserveTag()
        Sessions.register(self, tag: self.tag)
        LibraryLog.add(tag: self.tag, logger: logger, secrets: [configuration.credentials?.password ?? ""])
        let opened = self.state.withLock { state in
            state.handle = self.openHandle()
            return state.handle != nil
        }
        guard opened else {
            Sessions.remove(self.tag)
            LibraryLog.remove(tag: self.tag)
            throw ZooKeeperError(
                .invalidConfiguration,
                "libzookeeper could not create a handle (errno \(errno): \(String(cString: strerror(errno))))",
                operation: "connect",
                target: configuration.ensemble
            )
        }
    }

    /// The ensemble, as errors name it.
    var target: String { self.configuration.ensemble }

    /// How many times the session expired and was replaced.
    var expirations: Int { self.state.withLock { $0.expirations } }

    /// The current generation (bumped at each replacement).
    var generation: Int { self.state.withLock { $0.generation } }

    /// The current session's id and password, for a test that takes the session over to make it expire.
    var sessionCredentials: (id: Int64, password: [UInt8])? {
        self.state.withLock { state in
            guard let handle = state.handle, let client = zoo_client_id(handle.pointer) else { return nil }
            let password = withUnsafeBytes(of: client.pointee.passwd) { Array($0) }
            return (client.pointee.client_id, password)
        }
    }

    /// The server the current handle is connected to (or connecting to), as `host:port`.
    var currentServer: String? {
        self.state.withLock { state in
            state.handle.flatMap { zoo_get_current_server($0.pointer) }.map { String(cString: $0) }
        }
    }

    /// Opens a handle; called with the lock held.
    private func openHandle() -> ZooKeeperHandle? {
        let timeout = Int32(clamping: self.configuration.sessionTimeout.wholeMilliseconds)
        let context = UnsafeMutableRawPointer(bitPattern: self.tag)
        guard
            let pointer = zookeeper_init2(
                self.configuration.connectionString,
                Sessions.watcher,
                timeout,
                nil,
                context,
                0,
                LibraryLog.callback
            )
        else { return nil }
        zoo_set_servers_resolution_delay(pointer, Self.resolutionDelay)
        return ZooKeeperHandle(pointer: pointer)
    }

    /// How long, in milliseconds, libzookeeper waits before resolving the server names again while connected.
    ///
    /// By default it resolves them (`getaddrinfo`, which asks the kernel for the network interfaces even for a
    /// numeric address, and may query DNS) each time its I/O thread checks the socket, several times per request:
    /// with a local server that was about half the client's CPU time and a fifth of a `get`'s latency. Resolving
    /// again serves only to notice that the servers behind a name changed; once a second is plenty for that, and the
    /// names are still resolved at every connection attempt.
    static let resolutionDelay: Int32 = 1_000

    // MARK: Requests

    /// What ``send(_:pending:)`` did.
    enum Sending {
        /// The session is closed: nothing was sent.
        case closed
        /// Sent on a connected handle: the answers come within the session timeout.
        case sentConnected
        /// Queued (or refused at once) while no server is connected: the answers may take until a connection attempt
        /// fails.
        case sentDisconnected
    }

    /// Sends a batch of requests on the current handle; their outcomes arrive in `pending`.
    func send(_ requests: [Request], pending: PendingReplies) -> Sending {
        self.state.withLock { state in
            guard !state.closed else { return .closed }
            let sent: Sending = state.connected ? .sentConnected : .sentDisconnected
            func refuse(_ code: Int32) {
                for index in requests.indices { pending.complete(index, Outcome(code: code, reply: .done)) }
            }
            if state.authenticationFailed {
                refuse(ReturnCode.authFailed)
                return sent
            }
            if state.handle == nil { state.handle = self.openHandle() }
            guard let handle = state.handle else {
                refuse(ReturnCode.connectionLoss)
                return sent
            }
            if !state.authenticated {
                guard self.addCredentials(to: handle) else {
                    refuse(ReturnCode.connectionLoss)
                    return sent
                }
                state.authenticated = true
            }
            for (index, request) in requests.enumerated() {
                request.send(on: handle.pointer, pending: pending, index: index)
            }
            return sent
        }
    }

    /// Adds the digest credentials to a new handle, before its first request; `true` when there are none.
    ///
    /// libzookeeper refuses them (`ZINVALIDSTATE`) in the instant between two connection attempts; the request that
    /// needed them then fails as a lost connection, and is retried.
    private func addCredentials(to handle: ZooKeeperHandle) -> Bool {
        guard let credentials = self.configuration.credentials else { return true }
        let certificate = Array("\(credentials.username):\(credentials.password)".utf8)
        let code = certificate.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                zoo_add_auth(handle.pointer, "digest", $0.baseAddress, Int32($0.count), nil, nil)
            }
        }
        return code == ReturnCode.ok
    }

    // MARK: Renewals

    /// Waits until the session generation is past `generation` (an expired session was replaced), the session is
    /// closed, or the calling task is cancelled; returns at once if one of these is already the case.
    func waitForRenewal(after generation: Int) async {
        await self.state.wait(in: \.renewalWaiters) { $0.generation > generation || $0.closed }
    }

    // MARK: Subscribers

    /// Registers a watch subscription to tell when the session is replaced.
    func addSubscriber(_ tag: UInt) {
        _ = self.state.withLock { $0.subscribers.insert(tag) }
    }

    /// Forgets a watch subscription.
    func removeSubscriber(_ tag: UInt) {
        _ = self.state.withLock { $0.subscribers.remove(tag) }
    }

    // MARK: Session events

    /// Handles a session event of one of this session's handles (on that handle's completion thread).
    fileprivate func handle(state eventState: Int32, of pointer: OpaquePointer) {
        switch eventState {
        case ZOO_CONNECTED_STATE, ZOO_READONLY_STATE:
            let isCurrent = self.state.withLock { state in
                guard state.handle?.pointer == pointer else { return false }
                state.connected = true
                return true
            }
            guard isCurrent else { return }
            let server = zoo_get_current_server(pointer).map { String(cString: $0) } ?? "?"
            let session = zoo_client_id(pointer).map { String($0.pointee.client_id, radix: 16) } ?? "?"
            self.logger.debug(
                "ZooKeeper session connected",
                metadata: ["zookeeper.server": "\(server)", "zookeeper.session": "0x\(session)"]
            )
        case ZOO_CONNECTING_STATE:
            let wasConnected = self.state.withLock { state in
                guard state.handle?.pointer == pointer else { return false }
                defer { state.connected = false }
                return state.connected
            }
            if wasConnected {
                self.logger.info(
                    "ZooKeeper connection lost; reconnecting within the session",
                    metadata: ["zookeeper.ensemble": "\(self.target)"]
                )
            }
        case ZOO_EXPIRED_SESSION_STATE:
            self.replaceExpired(pointer)
        case ZOO_AUTH_FAILED_STATE:
            let isCurrent = self.state.withLock { state in
                guard state.handle?.pointer == pointer else { return false }
                state.authenticationFailed = true
                return true
            }
            if isCurrent {
                self.logger.error(
                    "ZooKeeper rejected the digest credentials; the client cannot be used",
                    metadata: ["zookeeper.ensemble": "\(self.target)"]
                )
            }
        default:
            break
        }
    }

    /// Replaces an expired handle with a new session, closes the old one on a thread of its own, and tells the
    /// subscribers and `run()`.
    private func replaceExpired(_ pointer: OpaquePointer) {
        let replaced:
            (
                old: ZooKeeperHandle, subscribers: Set<UInt>, waiters: Waiters.Resumption, opened: Bool
            )? =
                self.state.withLock { state in
                    guard !state.closed, let old = state.handle, old.pointer == pointer else { return nil }
                    state.generation += 1
                    state.expirations += 1
                    state.connected = false
                    state.authenticated = false
                    state.handle = self.openHandle()
                    return (old, state.subscribers, state.renewalWaiters.removeAll(), state.handle != nil)
                }
        guard let replaced else { return }
        self.expirationCounter.increment()
        self.logger.warning(
            "ZooKeeper session expired; opened a new session, re-reading watched nodes and re-creating ephemeral nodes",
            metadata: [
                "zookeeper.ensemble": "\(self.target)",
                "zookeeper.expirations": "\(self.expirations)",
                "zookeeper.opened": "\(replaced.opened)",
            ]
        )
        // Closing joins the handle's threads, and this runs on one of them: close on a thread of its own.
        let old = replaced.old
        if !BeaconThread.detach(name: "beacon-zk-close", { zookeeper_close(old.pointer) }) {
            self.logger.error("no thread could be started to close the expired ZooKeeper handle; it is left open")
        }
        replaced.waiters.resume()
        for subscriber in replaced.subscribers { PathWatchers.deliver(.sessionRenewed, to: subscriber) }
    }

    // MARK: Closing

    /// Closes the session: ends it on the ensemble (its ephemeral nodes disappear at once) and stops its threads.
    ///
    /// Waits on a thread of its own, since `zookeeper_close` blocks for up to a few seconds when the ensemble does
    /// not answer. Pending requests complete with `ZCLOSING`; later ones fail as closed. Idempotent.
    func close() async {
        guard case .some(let closing) = self.markClosed() else { return }
        if let handle = closing {
            _ = await BeaconThread.run(name: "beacon-zk-close") { zookeeper_close(handle.pointer) }
        }
        LibraryLog.remove(tag: self.tag)
    }

    /// Closes the session as ``close()`` does, without waiting for the ensemble: for a client deinitialized without
    /// `close()` or `run()`, whose session would otherwise keep its two libzookeeper threads for the rest of the
    /// process. Idempotent.
    func closeWithoutWaiting() {
        guard case .some(let closing) = self.markClosed() else { return }
        let tag = self.tag
        guard let handle = closing else {
            LibraryLog.remove(tag: tag)
            return
        }
        let started = BeaconThread.detach(name: "beacon-zk-close") {
            zookeeper_close(handle.pointer)
            LibraryLog.remove(tag: tag)
        }
        if !started {
            // No thread to spare: close here, blocking this thread for as long as the ensemble takes.
            zookeeper_close(handle.pointer)
            LibraryLog.remove(tag: tag)
        }
    }

    /// Marks the session closed, wakes whoever waits for a renewal and the subscribers (who then find it closed), and
    /// forgets it as the handle's watcher context.
    ///
    /// - Returns: `nil` when the session was already closed; else the handle to close, if there is one.
    private func markClosed() -> ZooKeeperHandle?? {
        let closing: (handle: ZooKeeperHandle?, subscribers: Set<UInt>, waiters: Waiters.Resumption)? =
            self.state.withLock { state in
                guard !state.closed else { return nil }
                state.closed = true
                defer { state.handle = nil }
                return (state.handle, state.subscribers, state.renewalWaiters.removeAll())
            }
        guard let closing else { return nil }
        closing.waiters.resume()
        Sessions.remove(self.tag)
        // Wake the subscribers so that they find the session closed.
        for subscriber in closing.subscribers { PathWatchers.deliver(.sessionRenewed, to: subscriber) }
        return .some(closing.handle)
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { self.state.withLock { $0.closed } }
}

/// The sessions whose handles are open, by tag: the context of each handle's global watcher (a number rather than
/// a pointer, so that an event that arrives after the session was closed finds nothing instead of freed memory).
private enum Sessions {
    private struct Table {
        var nextTag: UInt = 1
        var sessions: [UInt: ZooKeeperSession] = [:]
    }

    private static let table = Lock(Table())

    static func reserveTag() -> UInt {
        self.table.withLock { table in
            defer { table.nextTag += 1 }
            return table.nextTag
        }
    }

    static func register(_ session: ZooKeeperSession, tag: UInt) {
        self.table.withLock { $0.sessions[tag] = session }
    }

    static func remove(_ tag: UInt) {
        _ = self.table.withLock { $0.sessions.removeValue(forKey: tag) }
    }

    /// The global watcher of every handle, called on the handle's completion thread.
    static let watcher: watcher_fn = { handle, type, state, _, context in
        guard type == ZOO_SESSION_EVENT, let handle, let context else { return }
        let tag = UInt(bitPattern: context)
        guard let session = Sessions.table.withLock({ $0.sessions[tag] }) else { return }
        session.handle(state: state, of: handle)
    }
}
