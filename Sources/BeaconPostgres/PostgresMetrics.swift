// SPDX-License-Identifier: Apache-2.0

import CoreMetrics

/// The metrics of a ``PostgresConnectionFactory`` and its pool, created once.
///
/// No dimension carries an unbounded value (no host, no key).
struct PostgresMetrics: Sendable {
    let connected: Counter
    let attemptFailed: Counter
    let exhausted: Counter
    let connectDuration: Timer
    let discarded: Counter

    init(factory: (any MetricsFactory)?) {
        func counter(_ label: String) -> Counter {
            if let factory { return Counter(label: label, factory: factory) }
            return Counter(label: label)
        }
        self.connected = counter("beacon.postgres.connections.opened")
        self.attemptFailed = counter("beacon.postgres.connect.failed_attempts")
        self.exhausted = counter("beacon.postgres.connect.exhausted")
        self.discarded = counter("beacon.postgres.pool.discarded")
        if let factory {
            self.connectDuration = Timer(label: "beacon.postgres.connect.duration", factory: factory)
        } else {
            self.connectDuration = Timer(label: "beacon.postgres.connect.duration")
        }
    }
}
