// SPDX-License-Identifier: Apache-2.0

/// The metadata keys of `BeaconPostgres` log lines.
enum LogKeys {
    static let endpoint = "postgres.endpoint"
    static let endpoints = "postgres.endpoints"
    static let key = "postgres.discovery_key"
    static let attempt = "postgres.attempt"
    static let error = "postgres.error"
    static let delay = "postgres.retry_delay"
    static let duration = "postgres.connect_duration"
}
