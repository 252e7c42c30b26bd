// SPDX-License-Identifier: Apache-2.0

/// When a ``KeptAliveRegistration`` renews: every third of its TTL (at least 200 ms apart), the first renewal a
/// period after the registration was made, not after the renewal loop started: registering a large group on a slow
/// store may already have taken a good part of the first members' TTL.
package struct RenewalSchedule: Sendable {
    private let interval: Duration
    private var next: ContinuousClock.Instant

    /// A schedule for a registration of `ttl` made at `registeredAt`.
    ///
    /// - Parameters:
    ///   - ttl: The registration's TTL.
    ///   - registeredAt: When the registration (or its lease) was made, from which its TTL runs.
    package init(ttl: Duration, registeredAt: ContinuousClock.Instant) {
        self.interval = max(ttl / 3, .milliseconds(200))
        self.next = registeredAt + self.interval
    }

    /// Sleeps until the next renewal is due (returning at once when it is overdue), then schedules the one after it a
    /// period from now.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled while it sleeps.
    package mutating func waitUntilDue() async throws {
        if self.next > .now { try await Task.sleep(until: self.next) }
        self.next = .now + self.interval
    }
}
