// SPDX-License-Identifier: Apache-2.0

/// Waits until a condition holds, checking it every few milliseconds, for at most `timeout`.
///
/// Tests of things that follow a change (a watch, a pool swap, a rebuild) wait for the outcome instead of sleeping
/// for a fixed time, so they do not depend on how fast the machine is:
///
/// ```swift
/// source.set("/memcached/servers/c", to: "10.0.0.3:11211")
/// #expect(try await eventually { pool.generation > generation })
/// ```
///
/// - Parameters:
///   - timeout: How long to wait at most. Default: 30 seconds, generous for a loaded machine.
///   - interval: How long to wait between checks. Default: 5 milliseconds.
///   - condition: The outcome to wait for.
/// - Returns: Whether the condition held before the timeout (checked once more at the end).
/// - Throws: What `condition` throws, or `CancellationError` when the task is cancelled.
public func eventually(
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(5),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() {
            return true
        }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
