// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// What a task gets from the pool: an idle connection to reuse, or the right to open a new one.
enum PoolLease: Sendable {
    case idle(PostgresConnection, idleSince: ContinuousClock.Instant)
    case create
}

/// The pool's bookkeeping, a plain value changed under the pool's lock; continuations are resumed by the caller after
/// the lock is released.
struct PoolState {
    struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<PoolLease, any Error>
    }

    let maxConnections: Int
    var idle: [(connection: PostgresConnection, since: ContinuousClock.Instant)] = []
    /// Connections leased out or being opened: each holds one of the `maxConnections` slots.
    var leased = 0
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    var closed = false
    /// Tasks waiting for the closed pool to have no connection leased (``PostgresConnectionPool/run()``).
    var drainWaiters = Waiters()

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    /// Removes and returns the idle connections made before the factory's location last changed.
    mutating func dropIdle(olderThan generation: UInt64) -> [PostgresConnection] {
        guard self.idle.contains(where: { $0.connection.locationGeneration < generation }) else { return [] }
        let stale = self.idle.filter { $0.connection.locationGeneration < generation }.map(\.connection)
        self.idle.removeAll { $0.connection.locationGeneration < generation }
        return stale
    }

    /// Takes the most recently used idle connection, or a slot to open one, or `nil` when the caller must wait.
    mutating func acquire() -> PoolLease? {
        if let last = self.idle.popLast() {
            self.leased += 1
            return .idle(last.connection, idleSince: last.since)
        }
        if self.leased < self.maxConnections {
            self.leased += 1
            return .create
        }
        return nil
    }

    /// Takes the drain waiters once the pool is closed and no connection is leased.
    mutating func takeDrainWaitersIfDrained() -> Waiters.Resumption {
        guard self.closed, self.leased == 0 else { return .none }
        return self.drainWaiters.removeAll()
    }

    /// Gives a slot back, with its connection if it can be reused; returns a waiter to hand the slot to, if any.
    mutating func release(
        _ connection: PostgresConnection?,
        now: ContinuousClock.Instant
    ) -> (Waiter, PoolLease)? {
        if !self.waiters.isEmpty {
            let waiter = self.waiters.removeFirst()
            if let connection {
                return (waiter, .idle(connection, idleSince: now))
            }
            return (waiter, .create)
        }
        self.leased -= 1
        if let connection { self.idle.append((connection, now)) }
        return nil
    }
}
