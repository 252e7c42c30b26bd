// SPDX-License-Identifier: Apache-2.0

/// The asynchronous sequence of change batches returned by ``DiscoverySource/changes(prefix:)``.
///
/// Each call to `makeAsyncIterator()` starts an independent subscription. Its first element is a reset batch (see
/// ``DiscoveryChangeBatch/isReset``) holding every entry under the prefix; each later element holds what changed.
/// Iteration ends when the iterating task is cancelled; a source may also throw when it can no longer follow the
/// prefix.
///
/// ```swift
/// var servers: [String: KeyValue] = [:]
/// for try await batch in source.changes(prefix: "/services/memcached/") {
///     if batch.isReset { servers = [:] }
///     for change in batch.changes {
///         servers[change.key] = change.kind == .put ? change.entry : nil
///     }
/// }
/// ```
public struct DiscoveryChanges: AsyncSequence, Sendable {
    /// The type of element the sequence produces.
    public typealias Element = DiscoveryChangeBatch
    /// The type of error the sequence can throw.
    public typealias Failure = any Error

    private let makeNext: @Sendable () -> (() async throws -> DiscoveryChangeBatch?)

    /// Creates a sequence from a factory of `next` functions, one per iterator.
    ///
    /// Sources implement ``DiscoverySource/changes(prefix:)`` with this initializer: the factory runs once per
    /// iteration, and the function it returns is called for each element. It returns `nil` to end the sequence, and
    /// must return `nil` promptly once the calling task is cancelled.
    ///
    /// - Parameter makeNext: Makes the `next` function of a new subscription.
    public init(_ makeNext: @escaping @Sendable () -> (() async throws -> DiscoveryChangeBatch?)) {
        self.makeNext = makeNext
    }

    /// Changes computed by comparing each snapshot of a watch with the one before: the first snapshot becomes a reset
    /// batch, and a snapshot equal to the one before gives no batch.
    ///
    /// Each batch costs what the watch's snapshot costs plus one pass over both snapshots: O(prefix), not O(change).
    /// This is how sources without their own change stream implement ``DiscoverySource/changes(prefix:)``.
    ///
    /// - Parameter watch: The watch to compare snapshots of.
    /// - Returns: The sequence of changes.
    public static func diffing(_ watch: DiscoveryWatch) -> DiscoveryChanges {
        DiscoveryChanges {
            let differ = SnapshotDiffer(watch.makeAsyncIterator())
            return { try await differ.next() }
        }
    }

    /// Starts a subscription.
    ///
    /// - Returns: An iterator whose first element is a reset batch with the current state of the prefix.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(next: self.makeNext())
    }

    /// The iterator of a ``DiscoveryChanges``: one subscription to the prefix.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextBatch: () async throws -> DiscoveryChangeBatch?

        init(next: @escaping () async throws -> DiscoveryChangeBatch?) {
            self.nextBatch = next
        }

        /// Waits for the next batch.
        ///
        /// - Returns: The next batch, or `nil` when the subscription has ended (the task was cancelled).
        /// - Throws: The source's error when it can no longer follow the prefix.
        public mutating func next() async throws -> DiscoveryChangeBatch? {
            try await self.nextBatch()
        }
    }
}

@available(*, unavailable)
extension DiscoveryChanges.AsyncIterator: Sendable {}

/// Turns a watch's snapshots into change batches; owned by one iterator.
private final class SnapshotDiffer {
    private var iterator: DiscoveryWatch.AsyncIterator
    private var last: DiscoverySnapshot?

    init(_ iterator: DiscoveryWatch.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> DiscoveryChangeBatch? {
        while let snapshot = try await self.iterator.next() {
            guard let previous = self.last else {
                self.last = snapshot
                return .reset(snapshot)
            }
            self.last = snapshot
            let changes = snapshot.changes(since: previous)
            if !changes.isEmpty {
                let revision = changes.lazy.map(\.entry.version).max() ?? 0
                return DiscoveryChangeBatch(isReset: false, changes: changes, revision: revision)
            }
        }
        return nil
    }
}
