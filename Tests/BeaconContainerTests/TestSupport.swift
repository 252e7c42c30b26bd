// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import BeaconLocks

/// Counts things across tasks.
final class Counter: Sendable {
    private let count = Lock(0)

    @discardableResult
    func increment() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }

    var value: Int { count.withLock { $0 } }
}

/// Holds tasks until it is opened; `waiting` tells how many are held.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var arrivals = 0
        var arrivalWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Lock(State())

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (resumeNow, ready) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                state.arrivals += 1
                let ready = state.arrivalWaiters.filter { $0.count <= state.arrivals }.map(\.continuation)
                state.arrivalWaiters.removeAll { $0.count <= state.arrivals }
                if state.isOpen {
                    return (true, ready)
                }
                state.waiters.append(continuation)
                return (false, ready)
            }
            for waiter in ready { waiter.resume() }
            if resumeNow {
                continuation.resume()
            }
        }
    }

    /// Returns once `count` tasks have reached ``wait()``.
    func arrivals(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.arrivals >= count {
                    return true
                }
                state.arrivalWaiters.append((count, continuation))
                return false
            }
            if now {
                continuation.resume()
            }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// An asynchronous sequence that reports every `next()` its consumer makes, so a test knows that the
/// previous element has been handled without waiting for a time.
struct ObservedSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    typealias Element = Base.Element

    let base: Base
    let requests: AsyncStream<Void>.Continuation

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let requests: AsyncStream<Void>.Continuation

        mutating func next() async throws -> Base.Element? {
            requests.yield()
            return try await base.next(isolation: #isolation)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), requests: requests)
    }
}

/// A change signal the test fires by hand, and a way to wait until the container has handled it.
struct ManualSignal: Sendable {
    let sequence: ObservedSequence<AsyncStream<Void>>
    private let fire: AsyncStream<Void>.Continuation
    private let requests: AsyncStream<Void>

    init() {
        let (stream, fire) = AsyncStream<Void>.makeStream()
        let (requests, requestContinuation) = AsyncStream<Void>.makeStream()
        self.sequence = ObservedSequence(base: stream, requests: requestContinuation)
        self.fire = fire
        self.requests = requests
    }

    /// Returns once the container has started consuming the signal.
    func started() async {
        var iterator = requests.makeAsyncIterator()
        _ = await iterator.next()
    }

    /// Fires the signal and returns once the consumer has handled it (it asked for the next element).
    func send() async {
        fire.yield()
        var iterator = requests.makeAsyncIterator()
        _ = await iterator.next()
    }
}

/// A service whose identity tests compare.
final class Config: Sendable, ExpressionObject {
    let servers: String
    let port: Int
    let className = "Config"

    init(servers: String, port: Int = 11211) {
        self.servers = servers
        self.port = port
    }

    func property(named name: String) throws -> ExpressionValue? {
        switch name {
        case "servers": return .string(servers)
        case "port": return .int(port)
        default: return nil
        }
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .string(servers)
    }
}

/// A service built from a server list.
final class Pool: Sendable {
    let servers: String

    init(servers: String) {
        self.servers = servers
    }
}

/// A service that depends on nothing refreshable.
final class Clock: Sendable {}

/// Runs `body` while the container consumes its change signals, then stops it.
func withRunningContainer<R: Sendable>(
    _ container: Container,
    _ body: () async throws -> R
) async throws -> R {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await container.run() }
        defer { group.cancelAll() }
        return try await body()
    }
}
