// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks

/// A discovery source that wraps another and fails on demand, counting the calls it receives.
///
/// Tests of caches and consumers use it to simulate a backend outage, a flaky network or a slow answer,
/// and to check how many reads reached the backend.
///
/// ```swift
/// let backend = StaticSource(["/db/main/endpoint": "127.0.0.1:5432"])
/// let source = FaultInjectingSource(backend)
/// source.failNext(2)                          // the next two reads throw
/// source.failAll()                            // every read throws until heal()
/// source.heal()
/// ```
public final class FaultInjectingSource<Base: DiscoverySource>: DiscoverySource {
    /// The calls a ``FaultInjectingSource`` counts.
    public struct CallCounts: Hashable, Sendable {
        /// Calls to `get`.
        public var get = 0
        /// Calls to `list`.
        public var list = 0
        /// Calls to `watch`.
        public var watch = 0
        /// Calls that were failed on purpose.
        public var failed = 0

        /// Creates counts.
        ///
        /// - Parameters:
        ///   - get: Calls to `get`.
        ///   - list: Calls to `list`.
        ///   - watch: Calls to `watch`.
        ///   - failed: Calls that were failed on purpose.
        public init(get: Int = 0, list: Int = 0, watch: Int = 0, failed: Int = 0) {
            self.get = get
            self.list = list
            self.watch = watch
            self.failed = failed
        }
    }

    private struct State {
        var counts = CallCounts()
        var failuresLeft = 0
        var failAll = false
        var error: any Error = BeaconError(.unavailable, "injected failure")
        var delay: Duration?
    }

    /// The wrapped source, which answers calls that are not failed.
    public let base: Base
    private let state = Lock(State())

    /// Wraps a source.
    ///
    /// - Parameter base: The source that answers calls that are not failed.
    public init(_ base: Base) {
        self.base = base
    }

    /// The calls received so far.
    public var counts: CallCounts { self.state.withLock { $0.counts } }

    /// Makes the next `count` reads (`get` or `list`) throw.
    ///
    /// - Parameters:
    ///   - count: How many reads fail.
    ///   - error: The error they throw; an `BeaconError.Code.unavailable` `BeaconError` by default.
    public func failNext(_ count: Int, with error: any Error = BeaconError(.unavailable, "injected failure")) {
        self.state.withLock { state in
            state.failuresLeft = count
            state.error = error
        }
    }

    /// Makes every read throw until ``heal()``.
    ///
    /// - Parameter error: The error reads throw; an `BeaconError.Code.unavailable` `BeaconError` by default.
    public func failAll(with error: any Error = BeaconError(.unavailable, "injected failure")) {
        self.state.withLock { state in
            state.failAll = true
            state.error = error
        }
    }

    /// Stops failing reads.
    public func heal() {
        self.state.withLock { state in
            state.failAll = false
            state.failuresLeft = 0
        }
    }

    /// Makes every read wait this long (on the continuous clock) before it is answered or failed.
    ///
    /// - Parameter delay: The latency to add, or `nil` for none.
    public func setDelay(_ delay: Duration?) {
        self.state.withLock { $0.delay = delay }
    }

    /// Counts the call, waits for the delay, and throws when a failure is due.
    private func intercept(_ count: (inout CallCounts) -> Void) async throws {
        let (delay, error) = self.state.withLock { state -> (Duration?, (any Error)?) in
            count(&state.counts)
            var error: (any Error)?
            if state.failAll {
                error = state.error
            } else if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                error = state.error
            }
            if error != nil { state.counts.failed += 1 }
            return (state.delay, error)
        }
        if let delay { try await Task.sleep(for: delay) }
        if let error { throw error }
    }

    /// Reads a key from the wrapped source unless a failure is due.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The wrapped source's answer.
    /// - Throws: The injected error, or the wrapped source's.
    public func get(_ key: String) async throws -> KeyValue? {
        try await self.intercept { $0.get += 1 }
        return try await self.base.get(key)
    }

    /// Lists a prefix from the wrapped source unless a failure is due.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The wrapped source's answer.
    /// - Throws: The injected error, or the wrapped source's.
    public func list(prefix: String) async throws -> [KeyValue] {
        try await self.intercept { $0.list += 1 }
        return try await self.base.list(prefix: prefix)
    }

    /// Follows a prefix on the wrapped source (watches are counted, never failed).
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The wrapped source's watch.
    public func watch(prefix: String) -> DiscoveryWatch {
        self.state.withLock { $0.counts.watch += 1 }
        return self.base.watch(prefix: prefix)
    }
}
