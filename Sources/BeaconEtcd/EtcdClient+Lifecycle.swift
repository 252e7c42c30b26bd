// SPDX-License-Identifier: Apache-2.0

public import ServiceLifecycle
import Synchronization

extension EtcdClient: Service {
    /// Keeps the leases of the client's registrations alive until graceful shutdown or cancellation, then revokes
    /// them and closes the client.
    ///
    /// Run it in the application's `ServiceGroup` for as long as the client is used:
    ///
    /// ```swift
    /// let group = ServiceGroup(services: [etcd, ...], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    ///
    /// Each registration made through ``register(_:ttl:)`` (before or while `run()` runs) is kept alive by a child
    /// task of `run()`. `run()` returns only when the application shuts down gracefully, when its task is cancelled,
    /// or when ``close()`` is called. It then stops accepting registrations (``register(_:ttl:)`` throws
    /// ``EtcdError/Code/closed``), revokes the leases of the registrations still live, so their keys disappear at
    /// once (these requests go on even when the task is cancelled, each bounded by
    /// ``Configuration/requestTimeout``), and closes the client as ``close()`` does.
    ///
    /// `run()` may be called once: a second call is a programming error and stops the process.
    public func run() async {
        switch self.lifecycle.start() {
        case .started: break
        case .closed: return
        case .alreadyStarted: preconditionFailure("EtcdClient.run() may be called only once")
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // Ends when the task is cancelled (graceful shutdown included) or close() finishes the stream.
                for await id in self.lifecycle.registrations {
                    guard let keeper = self.lifecycle.keeper(id) else { continue }
                    group.addTask { await keeper.keepAlive() }
                }
            }
        }
        let live = self.lifecycle.finish()
        await withDiscardingTaskGroup { group in
            for keeper in live {
                group.addTask { await keeper.withdraw() }
            }
        }
        self.close()
    }
}

/// Whether an ``EtcdClient``'s `run()` started, and the registrations whose leases it keeps alive.
///
/// Registrations reach `run()` through an unbounded stream of their identifiers, so that those made before `run()`
/// starts wait in the stream's buffer; the registrations themselves are kept here until they are withdrawn or the
/// client stops accepting them.
final class EtcdLifecycle: Sendable {
    enum Start {
        case started
        case alreadyStarted
        /// The client was closed before `run()` started: there is nothing to run.
        case closed
    }

    private struct State {
        var runStarted = false
        var accepting = true
        var live: [ObjectIdentifier: LeaseKeeper] = [:]
    }

    private let state = Mutex(State())
    /// The registrations for `run()` to keep alive, in the order they were made.
    let registrations: AsyncStream<ObjectIdentifier>
    private let continuation: AsyncStream<ObjectIdentifier>.Continuation

    init() {
        (self.registrations, self.continuation) = AsyncStream.makeStream(of: ObjectIdentifier.self)
    }

    /// Records that `run()` started.
    func start() -> Start {
        self.state.withLock { state in
            if state.runStarted { return .alreadyStarted }
            state.runStarted = true
            return state.accepting ? .started : .closed
        }
    }

    /// Whether registrations are still accepted (neither `run()` ended nor the client closed).
    var isAccepting: Bool { self.state.withLock { $0.accepting } }

    /// Adds a registration for `run()` to keep alive; `false` once registrations are no longer accepted.
    func add(_ keeper: LeaseKeeper) -> Bool {
        self.state.withLock { state in
            guard state.accepting else { return false }
            state.live[ObjectIdentifier(keeper)] = keeper
            // Yielded under the lock, so that finish() cannot finish the stream between the check and the yield.
            self.continuation.yield(ObjectIdentifier(keeper))
            return true
        }
    }

    /// The live registration with an identifier, unless it was withdrawn meanwhile.
    func keeper(_ id: ObjectIdentifier) -> LeaseKeeper? {
        self.state.withLock { $0.live[id] }
    }

    /// Forgets a withdrawn registration.
    func remove(_ keeper: LeaseKeeper) {
        _ = self.state.withLock { $0.live.removeValue(forKey: ObjectIdentifier(keeper)) }
    }

    /// Stops accepting registrations and ends the stream; returns the registrations still live (once: later calls
    /// return none).
    func finish() -> [LeaseKeeper] {
        let live = self.state.withLock { state in
            state.accepting = false
            defer { state.live = [:] }
            return Array(state.live.values)
        }
        self.continuation.finish()
        return live
    }
}
