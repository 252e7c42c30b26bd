// SPDX-License-Identifier: Apache-2.0

/// The metadata keys of the watchdog's log lines.
enum LogKey {
    static let check = "beacon.register.check"
    static let state = "beacon.register.state"
    static let failures = "beacon.register.failures"
    static let retryIn = "beacon.register.retry_in"
    static let ttl = "beacon.register.ttl"
    static let service = "beacon.register.service"
    static let instance = "beacon.register.instance"
    static let endpoint = "beacon.register.endpoint"
    static let key = "beacon.register.key"
    static let value = "beacon.register.value"
    static let error = "beacon.error"
}
