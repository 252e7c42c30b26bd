// SPDX-License-Identifier: Apache-2.0

/// The asynchronous sequence of instance lists returned by ``ServiceRegistry/watchInstances(of:)``.
///
/// Each call to `makeAsyncIterator()` starts an independent subscription whose first element is the current list;
/// each later element is the list after a change, sorted by identifier. Iteration ends when the iterating task is
/// cancelled; a registry may also throw when it can no longer follow the service.
///
/// ```swift
/// for try await instances in registry.watchInstances(of: "memcached") {
///     print("memcached servers:", instances.map(\.endpoint))
/// }
/// ```
public struct ServiceInstanceWatch: AsyncSequence, Sendable {
    /// The type of element the sequence produces.
    public typealias Element = [ServiceInstance]
    /// The type of error the sequence can throw.
    public typealias Failure = any Error

    private let makeNext: @Sendable () -> (() async throws -> [ServiceInstance]?)

    /// Creates a watch from a factory of `next` functions, one per iterator.
    ///
    /// The factory runs once per iteration, and the function it returns is called for each element. It returns `nil`
    /// to end the sequence, and must return `nil` promptly once the calling task is cancelled.
    ///
    /// - Parameter makeNext: Makes the `next` function of a new subscription.
    public init(_ makeNext: @escaping @Sendable () -> (() async throws -> [ServiceInstance]?)) {
        self.makeNext = makeNext
    }

    /// Follows the instances a registry keeps in a key-value store: the entries under `prefix`, each holding a
    /// ``ServiceInstance`` as JSON (how etcd, ZooKeeper and ``StaticSource`` keep them).
    ///
    /// - Parameters:
    ///   - source: The store.
    ///   - prefix: The service's prefix, such as `/services/memcached/`.
    /// - Returns: The watch; a list is emitted only when it differs from the one before.
    public static func following(_ source: some DiscoverySource, prefix: String) -> ServiceInstanceWatch {
        let watch = source.watch(prefix: prefix)
        return ServiceInstanceWatch {
            var snapshots = watch.makeAsyncIterator()
            var last: [ServiceInstance]?
            return {
                while let snapshot = try await snapshots.next() {
                    let instances = try snapshot.map { entry throws(BeaconError) in try ServiceInstance(decoding: entry)
                    }
                    .sorted { $0.id < $1.id }
                    if instances != last {
                        last = instances
                        return instances
                    }
                }
                return nil
            }
        }
    }

    /// Starts a subscription.
    ///
    /// - Returns: An iterator whose first element is the current list.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(next: self.makeNext())
    }

    /// The iterator of a ``ServiceInstanceWatch``: one subscription to the service.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let nextList: () async throws -> [ServiceInstance]?

        init(next: @escaping () async throws -> [ServiceInstance]?) {
            self.nextList = next
        }

        /// Waits for the next list.
        ///
        /// - Returns: The next list, or `nil` when the watch has ended (the task was cancelled).
        /// - Throws: The registry's error when it can no longer follow the service.
        public mutating func next() async throws -> [ServiceInstance]? {
            try await self.nextList()
        }
    }
}

@available(*, unavailable)
extension ServiceInstanceWatch.AsyncIterator: Sendable {}
