// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

extension RegistrationWatchdog {
    /// The states of a watchdog as they change, from ``RegistrationWatchdog/stateUpdates()``.
    ///
    /// The first element is the state at the time of the call; the sequence ends after ``State/stopped``. It buffers
    /// the newest 16 states for a consumer that falls behind (older ones are dropped: the last state is never lost).
    /// Stop iterating, or cancel the iterating task, to unsubscribe.
    public struct StateUpdates: AsyncSequence, Sendable {
        /// The element type: a state.
        public typealias Element = State
        /// Iterating never fails.
        public typealias Failure = Never

        let stream: AsyncStream<State>

        /// Creates an iterator.
        ///
        /// - Returns: The iterator.
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: self.stream.makeAsyncIterator())
        }

        /// Iterates over the states.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncStream<State>.AsyncIterator

            /// The next state, or `nil` after ``State/stopped`` or when the task is cancelled.
            ///
            /// - Returns: The state.
            public mutating func next() async -> State? {
                await self.base.next(isolation: #isolation)
            }

            /// The next state, or `nil` after ``State/stopped`` or when the task is cancelled.
            ///
            /// - Parameter actor: The caller's isolation.
            /// - Returns: The state.
            public mutating func next(isolation actor: isolated (any Actor)?) async -> State? {
                await self.base.next(isolation: actor)
            }
        }
    }
}

/// The current state of a watchdog and the streams of those who follow it.
final class StateBroadcast: Sendable {
    private struct Storage {
        var state: RegistrationWatchdog.State = .starting
        var subscribers: [Int: AsyncStream<RegistrationWatchdog.State>.Continuation] = [:]
        var nextID = 0
    }

    private let storage = Lock(Storage())

    /// The current state.
    var state: RegistrationWatchdog.State { self.storage.withLock { $0.state } }

    /// Records a state and sends it to every subscriber when it differs from the current one; after
    /// ``RegistrationWatchdog/State/stopped``, ends every subscriber's stream.
    ///
    /// - Returns: Whether the state changed.
    @discardableResult
    func set(_ state: RegistrationWatchdog.State) -> Bool {
        let (changed, ended) = self.storage.withLock { storage in
            guard storage.state != state else {
                return (false, [AsyncStream<RegistrationWatchdog.State>.Continuation]())
            }
            storage.state = state
            // Yielded under the lock, so that every subscriber sees the states in order.
            for continuation in storage.subscribers.values { continuation.yield(state) }
            guard state == .stopped else { return (true, []) }
            defer { storage.subscribers = [:] }
            return (true, Array(storage.subscribers.values))
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes the lock.
        for continuation in ended { continuation.finish() }
        return changed
    }

    /// A stream of the current state and of every change.
    func subscribe() -> RegistrationWatchdog.StateUpdates {
        let (stream, continuation) = AsyncStream.makeStream(
            of: RegistrationWatchdog.State.self,
            bufferingPolicy: .bufferingNewest(16)
        )
        let stopped = self.storage.withLock { storage in
            continuation.yield(storage.state)
            guard storage.state != .stopped else { return true }
            let id = storage.nextID
            storage.nextID += 1
            storage.subscribers[id] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.storage.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return false
        }
        if stopped { continuation.finish() }
        return RegistrationWatchdog.StateUpdates(stream: stream)
    }
}
