// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CBeaconMemcached
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The breaker of one server of a ``MemcachedPool``: it counts the server's consecutive timeouts and, once there
/// are ``MemcachedPool/Configuration/failureLimit`` of them, keeps operations away from the server for
/// ``MemcachedPool/Configuration/retryTimeout``.
///
/// libmemcached marks a server dead only when connecting to it fails. A hung server (frozen, or cut off after
/// the connection was made) still accepts connections, so without this breaker every operation on its keys would
/// wait for the poll timeout. The breaker is a pure value: every transition takes the current time, so tests
/// drive it without waiting.
///
/// - closed: operations pass; each timeout counts, and an answer resets the count. At the limit it opens.
/// - open: operations are rejected until `until`; the first one after that is let through as a probe.
/// - probing: the probe is out; other operations are rejected. An answer closes the breaker, a timeout opens it
///   again for another ``retryTimeout``. A probe that has not reported within ``retryTimeout`` is replaced by
///   another one.
struct MemcachedBreaker: Sendable, Equatable {
    /// Where the breaker is.
    enum State: Sendable, Equatable {
        /// Operations pass; `timeouts` in a row so far.
        case closed(timeouts: Int)
        /// Operations are rejected until `until`.
        case open(timeouts: Int, until: ContinuousClock.Instant)
        /// One operation, let through at `since`, tests the server; the others are rejected.
        case probing(timeouts: Int, since: ContinuousClock.Instant)
    }

    /// What happens to an operation the breaker is asked about.
    enum Admission: Sendable, Equatable {
        /// It goes to the server.
        case pass
        /// It goes to the server as the probe: its outcome must be recorded.
        case probe
        /// It must not go to the server, which timed out `timeouts` times in a row; it is skipped until `until`
        /// (or until the probe then in flight answers).
        case reject(timeouts: Int, until: ContinuousClock.Instant)
    }

    /// The consecutive timeouts that open the breaker; at least 1.
    let failureLimit: Int
    /// How long the breaker stays open before a probe is let through.
    let retryTimeout: Duration
    /// The current state.
    private(set) var state: State = .closed(timeouts: 0)

    /// Creates a closed breaker.
    ///
    /// - Parameters:
    ///   - failureLimit: The consecutive timeouts that open it (values below 1 count as 1).
    ///   - retryTimeout: How long it stays open before a probe.
    init(failureLimit: Int, retryTimeout: Duration) {
        self.failureLimit = max(1, failureLimit)
        self.retryTimeout = max(.zero, retryTimeout)
    }

    /// `true` when the breaker is closed with no timeout counted: nothing needs recording but a timeout.
    var isQuiet: Bool { self.state == .closed(timeouts: 0) }

    /// Whether an operation may go to the server at `now`; a ``Admission/probe`` moves the breaker to probing.
    mutating func admit(at now: ContinuousClock.Instant) -> Admission {
        switch self.state {
        case .closed:
            return .pass
        case .open(let timeouts, let until):
            guard now >= until else { return .reject(timeouts: timeouts, until: until) }
            self.state = .probing(timeouts: timeouts, since: now)
            return .probe
        case .probing(let timeouts, let since):
            let until = since + self.retryTimeout
            guard now >= until else { return .reject(timeouts: timeouts, until: until) }
            self.state = .probing(timeouts: timeouts, since: now)
            return .probe
        }
    }

    /// The server answered (any reply, a miss included): a closed or probing breaker closes with no timeout
    /// counted. An open breaker stays open: the answer is to an operation let through before it opened.
    mutating func recordAnswer() {
        switch self.state {
        case .closed, .probing:
            self.state = .closed(timeouts: 0)
        case .open:
            break
        }
    }

    /// An operation on the server timed out at `now`: a closed breaker counts it and opens at the limit; a probing
    /// one opens again for ``retryTimeout``. An open one keeps its deadline and counts it.
    ///
    /// - Returns: `true` when this timeout opened the breaker.
    @discardableResult
    mutating func recordTimeout(at now: ContinuousClock.Instant) -> Bool {
        switch self.state {
        case .closed(let timeouts):
            let count = timeouts + 1
            guard count >= self.failureLimit else {
                self.state = .closed(timeouts: count)
                return false
            }
            self.state = .open(timeouts: count, until: now + self.retryTimeout)
            return true
        case .probing(let timeouts, _):
            self.state = .open(timeouts: timeouts + 1, until: now + self.retryTimeout)
            return true
        case .open(let timeouts, let until):
            self.state = .open(timeouts: timeouts + 1, until: until)
            return false
        }
    }

    /// An operation failed otherwise (connection refused, for example: libmemcached's own dead-server handling
    /// covers that). A probe with that outcome closes the breaker, handing the server back to libmemcached;
    /// otherwise nothing changes.
    mutating func recordOtherFailure() {
        if case .probing = self.state { self.state = .closed(timeouts: 0) }
    }
}

/// The breakers of a pool's servers, shared by all its connections.
///
/// The hot path reads one atomic counter (``isQuiet``): while no server has a timeout counted, an operation
/// neither routes its key nor takes the lock. Everything else happens under one lock.
final class MemcachedBreakers: Sendable {
    private struct State {
        var breakers: [MemcachedBreaker]
        /// With ``MemcachedPool/Configuration/removeFailedServers``: a handle over the servers whose breakers are
        /// closed, which places the keys of the others, and which servers it leaves out.
        var degraded: CHandle?
        var degradedLeavesOut: [Bool]
        /// For each server, a key that maps to it on the full ring, sent as the group key of a moved operation;
        /// found on first use.
        var groupKeys: [[CChar]?]?
        /// A multi-key read timed out and the server that did not answer could not be told (see
        /// ``suspectUnattributedTimeout()``).
        var suspicion = false
    }

    private let state: Lock<State>
    /// How many breakers are not quiet (see ``MemcachedBreaker/isQuiet``), plus one while there is a suspicion.
    private let attention = Atomic<Int>(0)
    let servers: MemcachedServerList
    private let configuration: MemcachedPool.Configuration
    private let logger: Logger

    init(servers: MemcachedServerList, configuration: MemcachedPool.Configuration, logger: Logger) {
        let breaker = MemcachedBreaker(
            failureLimit: configuration.failureLimit,
            retryTimeout: configuration.retryTimeout
        )
        self.state = Lock(
            State(
                breakers: Array(repeating: breaker, count: servers.servers.count),
                degraded: nil,
                degradedLeavesOut: Array(repeating: false, count: servers.servers.count),
                groupKeys: nil
            )
        )
        self.servers = servers
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        self.state.withLock { state in
            if let handle = state.degraded { memcached_free(handle.pointer) }
            state.degraded = nil
        }
    }

    /// `true` while every breaker is closed with no timeout counted: the hot path's only check.
    @inline(__always)
    var isQuiet: Bool { self.attention.load(ordering: .relaxed) == 0 }

    /// A multi-key read over several servers timed out, and which server did not answer cannot be told: until
    /// ``clearSuspicion()``, ``isQuiet`` is `false`, so that the next multi-key reads ask each server on its own and
    /// the timeout is counted where it belongs.
    func suspectUnattributedTimeout() {
        self.state.withLock { state in
            guard !state.suspicion else { return }
            state.suspicion = true
            self.attention.add(1, ordering: .relaxed)
        }
    }

    /// A read asked each of its servers on its own: the suspicion of ``suspectUnattributedTimeout()`` is settled.
    func clearSuspicion() {
        self.state.withLock { state in
            guard state.suspicion else { return }
            state.suspicion = false
            self.attention.add(-1, ordering: .relaxed)
        }
    }

    /// The breaker of the server at `position`, for tests.
    func breaker(at position: Int) -> MemcachedBreaker {
        self.state.withLock { $0.breakers[position] }
    }

    /// Asks the breaker of the server at `position` whether an operation may go to it now.
    func admit(_ position: Int) -> MemcachedBreaker.Admission {
        let now = ContinuousClock.now
        return self.update(position) { $0.admit(at: now) }
    }

    /// Records the outcome of an operation sent to the server at `position`.
    func record(_ outcome: MemcachedOutcome, at position: Int) {
        let now = ContinuousClock.now
        let (before, after) = self.update(position) { breaker in
            let before = breaker.state
            switch outcome {
            case .answered: breaker.recordAnswer()
            case .timedOut: breaker.recordTimeout(at: now)
            case .otherFailure: breaker.recordOtherFailure()
            }
            return (before, breaker.state)
        }
        let server = self.servers.servers[position]
        switch (before, after) {
        case (.open, .open), (.probing, .probing):
            break
        case (_, .open(let timeouts, let until)):
            self.logger.warning(
                "memcached server skipped after timeouts",
                metadata: [
                    MemcachedLogKey.server: "\(server.hostAndPort)",
                    MemcachedLogKey.timeouts: "\(timeouts)",
                    MemcachedLogKey.skippedFor: "\(now.duration(to: until))",
                ]
            )
        case (.open, .closed), (.probing, .closed):
            self.logger.info(
                "memcached server answered again",
                metadata: [MemcachedLogKey.server: "\(server.hostAndPort)"]
            )
        default:
            break
        }
    }

    /// The group key that sends the key `key` to a server other than the one at `position`, whose breaker rejected
    /// it: the server libmemcached would pick with every server whose breaker is not closed left out of the ring
    /// (what it does itself for a server it marked dead, with ``MemcachedPool/Configuration/removeFailedServers``).
    ///
    /// - Parameters:
    ///   - key: The key's bytes.
    ///   - position: The server whose breaker rejected the key.
    ///   - handle: The calling connection's handle, whose ring the group key is found on.
    /// - Returns: The group key, or `nil` when no server is left or the one picked is not closed either.
    func groupKey(
        forKey key: UnsafeBufferPointer<UInt8>,
        awayFrom position: Int,
        handle: UnsafeMutablePointer<memcached_st>
    ) -> [CChar]? {
        self.state.withLock { state -> [CChar]? in
            let leftOut = state.breakers.map { breaker -> Bool in
                if case .closed = breaker.state { return false }
                return true
            }
            if leftOut != state.degradedLeavesOut || state.degraded == nil {
                if let handle = state.degraded { memcached_free(handle.pointer) }
                state.degraded = nil
                state.degradedLeavesOut = leftOut
                let kept = zip(self.servers.servers, leftOut).filter { !$0.1 }.map(\.0)
                guard !kept.isEmpty,
                    let degraded = try? MemcachedHandleFactory.makeMaster(
                        configuration: self.configuration,
                        servers: kept
                    )
                else { return nil }
                state.degraded = CHandle(pointer: degraded)
            }
            guard let degraded = state.degraded,
                let target = self.servers.position(forKey: key, handle: degraded.pointer),
                target != position
            else { return nil }
            guard case .closed = state.breakers[target].state else { return nil }
            if state.groupKeys == nil { state.groupKeys = self.findGroupKeys(handle) }
            return state.groupKeys?[target]
        }
    }

    /// For each server, a key libmemcached maps to it on `handle`'s ring.
    private func findGroupKeys(_ handle: UnsafeMutablePointer<memcached_st>) -> [[CChar]?] {
        var found = [[CChar]?](repeating: nil, count: self.servers.servers.count)
        var missing = found.count
        var attempt = 0
        while missing > 0 && attempt < 1000 * found.count {
            let key = Array("beacon:route:\(attempt)".utf8)
            attempt += 1
            guard
                let position = key.withUnsafeBufferPointer({ self.servers.position(forKey: $0, handle: handle) }),
                found[position] == nil
            else { continue }
            found[position] = key.map { CChar(bitPattern: $0) }
            missing -= 1
        }
        return found
    }

    private func update<T>(_ position: Int, _ body: (inout MemcachedBreaker) -> T) -> T {
        self.state.withLock { state in
            let wasQuiet = state.breakers[position].isQuiet
            let result = body(&state.breakers[position])
            let isQuiet = state.breakers[position].isQuiet
            if wasQuiet != isQuiet {
                self.attention.add(isQuiet ? -1 : 1, ordering: .relaxed)
            }
            return result
        }
    }
}

/// How an operation sent to a server ended, for its breaker.
enum MemcachedOutcome: Sendable, Equatable {
    /// The server replied (a miss or a refusal included).
    case answered
    /// The server did not reply within the timeouts.
    case timedOut
    /// The operation failed before reaching the server, or the connection failed.
    case otherFailure

    /// The outcome of a libmemcached return code on `handle`.
    init(_ rc: memcached_return_t, handle: UnsafeMutablePointer<memcached_st>) {
        switch rc {
        case MEMCACHED_TIMEOUT:
            self = .timedOut
        case MEMCACHED_READ_FAILURE, MEMCACHED_UNKNOWN_READ_FAILURE, MEMCACHED_WRITE_FAILURE, MEMCACHED_ERRNO:
            let number = memcached_last_error_errno(handle)
            self = number == ETIMEDOUT || number == EAGAIN || number == EWOULDBLOCK ? .timedOut : .otherFailure
        case MEMCACHED_CONNECTION_FAILURE, MEMCACHED_HOST_LOOKUP_FAILURE, MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE,
            MEMCACHED_SERVER_MARKED_DEAD, MEMCACHED_SERVER_TEMPORARILY_DISABLED, MEMCACHED_NO_SERVERS,
            MEMCACHED_CONNECTION_BIND_FAILURE, MEMCACHED_FAIL_UNIX_SOCKET, MEMCACHED_BAD_KEY_PROVIDED,
            MEMCACHED_KEY_TOO_BIG, MEMCACHED_MEMORY_ALLOCATION_FAILURE, MEMCACHED_INVALID_ARGUMENTS:
            self = .otherFailure
        default:
            self = .answered
        }
    }

    /// Whether `rc` may be a timeout; the hot path's only look at the outcome.
    @inline(__always)
    static func mayBeTimeout(_ rc: memcached_return_t) -> Bool {
        rc == MEMCACHED_TIMEOUT || rc == MEMCACHED_READ_FAILURE || rc == MEMCACHED_UNKNOWN_READ_FAILURE
            || rc == MEMCACHED_WRITE_FAILURE || rc == MEMCACHED_ERRNO
    }
}
