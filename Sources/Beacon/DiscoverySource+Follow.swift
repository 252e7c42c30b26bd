// SPDX-License-Identifier: Apache-2.0

extension DiscoverySource {
    /// Follows a prefix until the calling task is cancelled, as
    /// ``follow(_:retryDelay:maximumRetryDelay:onSnapshot:onFailure:)`` follows `.prefix(prefix)`.
    ///
    /// - Parameters:
    ///   - prefix: The prefix to follow.
    ///   - retryDelay: The first wait after a failure.
    ///   - maximumRetryDelay: The longest wait between two attempts.
    ///   - onSnapshot: Called with each snapshot, in order.
    ///   - onFailure: Called with each failure and the wait before the next attempt.
    package func follow(
        prefix: String,
        retryDelay: Duration,
        maximumRetryDelay: Duration,
        onSnapshot: (DiscoverySnapshot) async -> Void,
        onFailure: (any Error, _ retryIn: Duration) -> Void
    ) async {
        await self.follow(
            .prefix(prefix),
            retryDelay: retryDelay,
            maximumRetryDelay: maximumRetryDelay,
            onSnapshot: onSnapshot,
            onFailure: onFailure
        )
    }

    /// Follows a location until the calling task is cancelled: the loop that every long-running follower of a watch
    /// (beacon-confd's resources, the configuration provider) would otherwise write for itself.
    ///
    /// Each snapshot of ``watch(_:)`` goes to `onSnapshot`. When the watch throws, or ends without the task
    /// being cancelled, `onFailure` is told the error and the delay before the next attempt; the watch is started
    /// again after that delay, which doubles from `retryDelay` up to `maximumRetryDelay` (with ±20% jitter, so that
    /// many followers do not retry in step) and starts again from `retryDelay` once a snapshot arrives.
    ///
    /// - Parameters:
    ///   - location: The location to follow: a prefix, or a service (followed through the source as a registry).
    ///   - retryDelay: The first wait after a failure.
    ///   - maximumRetryDelay: The longest wait between two attempts.
    ///   - onSnapshot: Called with each snapshot, in order.
    ///   - onFailure: Called with each failure and the wait before the next attempt.
    package func follow(
        _ location: DiscoveryLocation,
        retryDelay: Duration,
        maximumRetryDelay: Duration,
        onSnapshot: (DiscoverySnapshot) async -> Void,
        onFailure: (any Error, _ retryIn: Duration) -> Void
    ) async {
        var delay = retryDelay
        while !Task.isCancelled {
            do {
                for try await snapshot in self.watch(location) {
                    delay = retryDelay
                    await onSnapshot(snapshot)
                }
                if Task.isCancelled { return }
                throw BeaconError(.unavailable, "the source ended the watch", key: location.watchPrefix)
            } catch {
                if Task.isCancelled { return }
                onFailure(error, delay)
                do {
                    try await Task.sleep(for: delay * Double.random(in: 0.8...1.2))
                } catch {
                    return
                }
                delay = min(delay * 2, maximumRetryDelay)
            }
        }
    }
}
