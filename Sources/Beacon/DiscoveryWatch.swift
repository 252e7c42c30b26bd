// SPDX-License-Identifier: Apache-2.0

/// The asynchronous sequence of snapshots returned by ``DiscoverySource/watch(prefix:)``.
///
/// Each call to `makeAsyncIterator()` starts an independent subscription whose first element is the
/// current state of the prefix. Iteration ends when the iterating task is cancelled; a source may also
/// throw when it can no longer follow the prefix.
///
/// ```swift
/// for try await snapshot in source.watch(prefix: "/services/memcached/") {
///     let servers = try snapshot.map { try $0.endpoint() }
///     print("memcached servers:", servers)
/// }
/// ```
public struct DiscoveryWatch: AsyncSequence, Sendable {
    /// The type of element the sequence produces.
    public typealias Element = DiscoverySnapshot
    /// The type of error the sequence can throw.
    public typealias Failure = any Error

    private let makeNext: @Sendable () -> (() async throws -> DiscoverySnapshot?)

    /// Creates a watch from a factory of `next` functions, one per iterator.
    ///
    /// Sources implement watches with this initializer: the factory runs once per iteration, and the
    /// function it returns is called for each element. It returns `nil` to end the sequence, and must
    /// return `nil` promptly once the calling task is cancelled.
    ///
    /// - Parameter makeNext: Makes the `next` function of a new subscription.
    public init(_ makeNext: @escaping @Sendable () -> (() async throws -> DiscoverySnapshot?)) {
        self.makeNext = makeNext
    }

    /// Wraps any sendable asynchronous sequence of snapshots.
    ///
    /// - Parameter base: The sequence to wrap.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == DiscoverySnapshot {
        self.makeNext = {
            let box = IteratorBox(base.makeAsyncIterator())
            return { try await box.next() }
        }
    }

    /// Starts a subscription.
    ///
    /// - Returns: An iterator whose first element is the current state of the prefix.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(next: self.makeNext())
    }

    /// The iterator of a ``DiscoveryWatch``: one subscription to the prefix.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextSnapshot: () async throws -> DiscoverySnapshot?

        init(next: @escaping () async throws -> DiscoverySnapshot?) {
            self.nextSnapshot = next
        }

        /// Waits for the next snapshot.
        ///
        /// - Returns: The next snapshot, or `nil` when the watch has ended (the task was cancelled).
        /// - Throws: The source's error when it can no longer follow the prefix.
        public mutating func next() async throws -> DiscoverySnapshot? {
            try await self.nextSnapshot()
        }
    }
}

@available(*, unavailable)
extension DiscoveryWatch.AsyncIterator: Sendable {}

/// Holds a wrapped iterator so that a closure can advance it.
private final class IteratorBox<Base: AsyncIteratorProtocol> where Base.Element == DiscoverySnapshot {
    private var base: Base

    init(_ base: Base) {
        self.base = base
    }

    func next() async throws -> DiscoverySnapshot? {
        try await self.base.next(isolation: #isolation)
    }
}
