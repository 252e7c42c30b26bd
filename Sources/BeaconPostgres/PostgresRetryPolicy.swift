// SPDX-License-Identifier: Apache-2.0

/// How a ``PostgresConnectionFactory`` retries: how many attempts or for how long, and how long it waits between them.
///
/// The wait before attempt `n + 1` is `initialBackoff * multiplier^(n - 1)`, capped at ``maximumBackoff``, of which a
/// random fraction up to ``jitter`` is taken off, so that many clients that lost the same server do not retry in
/// step. With the defaults the waits are about 0.1, 0.2, 0.4, 0.8 and 1.6 seconds: six attempts within about 3 seconds.
///
/// A failover takes longer than that: when a Patroni leader dies, its leader key lives until its `ttl` runs out (10 s
/// here, 30 s by default) before another member takes over. For such a location give a ``deadline`` that covers the
/// failover: the factory then retries until the deadline has passed, however many attempts that takes.
///
/// ```swift
/// let patroni = PostgresRetryPolicy(maximumBackoff: .seconds(1), deadline: .seconds(30))
/// ```
public struct PostgresRetryPolicy: Hashable, Sendable {
    /// How many attempts in all, at least 1, when there is no ``deadline``. Default: 6 (the seed's `tries > 5`).
    public var maxAttempts: Int
    /// The wait after the first failed attempt. Default: 100 milliseconds.
    public var initialBackoff: Duration
    /// The factor each later wait grows by. Default: 2.
    public var multiplier: Double
    /// The longest wait. Default: 5 seconds.
    public var maximumBackoff: Duration
    /// The largest fraction taken off each wait at random, from 0 (none) to 1. Default: 0.5.
    public var jitter: Double
    /// How long one ``PostgresConnectionFactory/makeConnection()`` may go on retrying, measured on the factory's clock
    /// from its first attempt; `nil` bounds it by ``maxAttempts`` instead. Default: `nil`.
    ///
    /// When set, it replaces ``maxAttempts``: attempts go on (with the backoff between them, each wait cut short at
    /// the deadline) until one succeeds or the deadline has passed, and the error then lists every attempt. Set it to
    /// at least the time the database needs to move: a Patroni failover takes the leader key's `ttl` plus a loop.
    public var deadline: Duration?

    /// Creates a policy; every parameter has the default documented on its property.
    ///
    /// - Parameters:
    ///   - maxAttempts: How many attempts in all.
    ///   - initialBackoff: The wait after the first failed attempt.
    ///   - multiplier: The factor each later wait grows by.
    ///   - maximumBackoff: The longest wait.
    ///   - jitter: The largest fraction taken off each wait.
    ///   - deadline: How long one call may go on retrying, instead of a number of attempts.
    public init(
        maxAttempts: Int = 6,
        initialBackoff: Duration = .milliseconds(100),
        multiplier: Double = 2,
        maximumBackoff: Duration = .seconds(5),
        jitter: Double = 0.5,
        deadline: Duration? = nil
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maximumBackoff = maximumBackoff
        self.jitter = min(max(jitter, 0), 1)
        self.deadline = deadline
    }

    /// Whether another attempt may start after `attempt` attempts, `elapsed` after the first one started.
    func allowsAttempt(after attempt: Int, elapsed: Duration) -> Bool {
        if let deadline = self.deadline { return elapsed < deadline }
        return attempt < self.maxAttempts
    }

    /// The wait after a failed attempt, before jitter.
    ///
    /// - Parameter attempt: The failed attempt's number, from 1.
    /// - Returns: The wait before the next attempt.
    public func backoff(after attempt: Int) -> Duration {
        let factor = power(self.multiplier, Double(max(0, attempt - 1)))
        let wait = self.initialBackoff * factor
        return min(wait, self.maximumBackoff)
    }

    /// The wait after a failed attempt, with a random part of it taken off.
    func jitteredBackoff<R: RandomNumberGenerator>(after attempt: Int, using generator: inout R) -> Duration {
        let wait = self.backoff(after: attempt)
        guard self.jitter > 0 else { return wait }
        return wait * (1 - Double.random(in: 0...self.jitter, using: &generator))
    }
}

/// `base` to a whole power (the policy needs no more).
private func power(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
    }
    return result
}
