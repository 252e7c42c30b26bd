// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation

/// Scenario 3: one memcached server of three is frozen (SIGSTOP) while eight workers get and set random keys through
/// one `MemcachedPool` (ketama, four connections, 500 ms timeouts).
///
/// Goals: operations on the other two servers never fail; until the pool's breaker opens (the first two timeouts,
/// at most twice the timeout plus 100 ms after the freeze) they wait at most one timeout plus 100 ms for a
/// connection, and after that none takes over 100 ms and their rate stays above half of what it was before;
/// operations on the frozen server's keys end within twice the timeout, and once it has timed out `failureLimit`
/// (2) times they fail at once (only the onset's operations and one probe per `retryTimeout` wait); after the thaw,
/// its keys are served again within 3 s.
enum MemcachedScenario {
    /// The configured connect and poll timeout.
    static let timeout = Duration.milliseconds(500)

    /// One operation of the workload.
    struct Operation: Sendable {
        var onVictim: Bool
        var start: ContinuousClock.Instant
        var latency: Duration
        var succeeded: Bool
    }

    /// Figures over some operations.
    struct Figures: CustomStringConvertible {
        var count = 0
        var failed = 0
        /// Failures within 50 ms: the server was known to be dead.
        var failedFast = 0
        var slowest = Duration.zero
        var median = Duration.zero
        var perSecond = 0.0

        init(_ operations: [Operation], over window: Duration) {
            for operation in operations {
                self.count += 1
                if !operation.succeeded {
                    self.failed += 1
                    if operation.latency < .milliseconds(50) { self.failedFast += 1 }
                }
                self.slowest = max(self.slowest, operation.latency)
            }
            let sorted = operations.map(\.latency).sorted()
            self.median = sorted.isEmpty ? .zero : sorted[sorted.count / 2]
            self.perSecond =
                Double(self.count)
                / max(0.001, Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18)
        }

        var description: String {
            String(format: "%d ops (%.0f/s), ", self.count, self.perSecond)
                + "\(self.failed) failed (\(self.failedFast) at once), median \(self.median.milliseconds), "
                + "slowest \(self.slowest.milliseconds)"
        }
    }

    /// Runs the scenario.
    @concurrent
    static func run() async throws -> Row {
        var row = Row(scenario: "memcached-frozen-node", goalMet: true)
        let servers = try Endpoint.list(parsing: Environment.value("BEACON_MEMCACHED_ENDPOINTS"))
        var configuration = MemcachedPool.Configuration()
        configuration.connectTimeout = Self.timeout
        configuration.pollTimeout = Self.timeout
        configuration.failureLimit = 2
        configuration.retryTimeout = .seconds(2)
        configuration.maxConnections = 4
        configuration.acquireTimeout = .seconds(2)
        let pool = try MemcachedPool(servers: servers, configuration: configuration)
        defer { pool.close() }
        let victim = servers[1]
        let keys = (0..<600).map { "faults:memcached:\($0)" }
        let onVictim = try keys.map { try pool.server(forKey: $0) == victim }
        for key in keys { try await pool.set(key, value: Array(key.utf8), expiration: .seconds(300)) }

        let operations = Locked<[Operation]>([])
        let workers = (0..<8).map { worker in
            Task {
                var index = worker
                while !Task.isCancelled {
                    index = (index &* 1_103_515_245 &+ 12_345) & 0x7FFF_FFFF
                    let slot = index % keys.count
                    let start = ContinuousClock.now
                    var succeeded = true
                    do {
                        if index & 1 == 0 {
                            _ = try await pool.get(keys[slot])
                        } else {
                            try await pool.set(keys[slot], value: Array(keys[slot].utf8), expiration: .seconds(300))
                        }
                    } catch {
                        succeeded = false
                    }
                    let operation = Operation(
                        onVictim: onVictim[slot],
                        start: start,
                        latency: start.duration(to: .now),
                        succeeded: succeeded
                    )
                    operations.withLock { $0.append(operation) }
                    try? await Task.sleep(for: .milliseconds(2))
                }
            }
        }
        defer {
            for worker in workers { worker.cancel() }
        }

        try await Task.sleep(for: .seconds(2))
        // The window counts from when the freeze has happened to when the thaw starts.
        let injecting = ContinuousClock.now
        var frozen = injecting
        var thawed = frozen
        try await Fault.frozen(["memcached-2"]).during {
            frozen = .now
            try await Task.sleep(for: .seconds(8))
            thawed = .now
        }
        try await Task.sleep(for: .seconds(5))
        for worker in workers { worker.cancel() }
        for worker in workers { _ = await worker.value }

        let all = operations.withLock { $0 }
        // Until the breaker opens (failureLimit timeouts, each up to a write and a read), the operations on the
        // frozen server hold connections and the others may wait for one: that onset is reported on its own.
        let onsetEnd = injecting + Self.timeout * 2 + .milliseconds(100)
        let during = all.filter { $0.start >= injecting && $0.start < thawed }
        let window = injecting.duration(to: thawed)
        let others = Figures(during.filter { !$0.onVictim }, over: window)
        let onset = Figures(
            during.filter { !$0.onVictim && $0.start < onsetEnd },
            over: injecting.duration(to: onsetEnd)
        )
        let settled = Figures(
            during.filter { !$0.onVictim && $0.start >= onsetEnd },
            over: onsetEnd.duration(to: thawed)
        )
        let victims = Figures(during.filter(\.onVictim), over: window)
        let start = all.first?.start ?? injecting
        let before = Figures(
            all.filter { $0.start + $0.latency < injecting && !$0.onVictim },
            over: start.duration(to: injecting)
        )
        let recovered = all.first { $0.onVictim && $0.succeeded && $0.start >= thawed }
        row.attempted = during.count
        row.failed = others.failed
        row.recovery = recovered.map { thawed.duration(to: $0.start + $0.latency) }
        row.notes.append("froze memcached-2 for 8 s; other servers: \(others)")
        row.notes.append("of which in the first \((Self.timeout * 2 + .milliseconds(100)).milliseconds): \(onset)")
        row.notes.append("after: \(settled)")
        row.notes.append("frozen server's keys: \(victims)")
        row.notes.append("other servers before the fault: \(before)")
        row.require(others.failed == 0, "operations on the other servers failed")
        row.require(
            onset.slowest <= Self.timeout + .milliseconds(100),
            "operations on the other servers waited more than a timeout before the breaker opened "
                + "(\(onset.slowest.milliseconds))"
        )
        row.require(
            settled.slowest <= .milliseconds(100),
            "operations on the other servers were slowed once the breaker was open (to \(settled.slowest.milliseconds))"
        )
        row.require(
            settled.perSecond >= before.perSecond / 2,
            "the other servers' rate fell by more than half once the breaker was open"
        )
        row.require(
            victims.slowest <= Self.timeout * 2 + .milliseconds(100),
            "an operation on the frozen server outlasted twice the timeout"
        )
        row.require(
            victims.failedFast > 0,
            "no operation on the frozen server failed at once: it was never marked dead"
        )
        // Before the breaker opens, each of the 8 workers has at most an operation or two on the frozen server's
        // keys in flight; then one probe per retryTimeout (2 s) over the 8 s waits.
        row.require(
            victims.failed - victims.failedFast <= 2 * 8 + 5,
            "more operations on the frozen server timed out than the onset and the probes explain"
        )
        row.require(
            row.recovery.map { $0 <= .seconds(3) } ?? false,
            "the frozen server's keys were not served within 3 s of the thaw"
        )
        return row
    }
}
