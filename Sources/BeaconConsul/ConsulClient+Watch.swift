// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension ConsulClient {
    /// Follows a prefix with blocking queries: whole snapshots, the first being the current state.
    ///
    /// Each request lists the prefix (`?recurse`) and waits beyond the index of the last answer for at most
    /// ``Configuration/watchWait``. Consul answers when something under the prefix may have changed, or when the wait
    /// ends; a snapshot is emitted only when the entries differ from the last one emitted. The index rules of
    /// Consul's documentation are followed: an index that goes backwards is reset, no index below 1 is sent, and
    /// requests that return at once without a change are paced with a jittered backoff. Unreachable agents, rate
    /// limits and server errors are retried; the watch throws for errors that retrying cannot fix (a refused token).
    ///
    /// - Parameter prefix: A Beacon key prefix.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch { [self] in
            let query = BlockingQuery<[KeyValue]>(
                wait: self.configuration.watchWait,
                subject: prefix,
                logger: self.logger
            ) { index, wait in
                let answer = try await self.read(prefix: prefix, index: index, wait: index == nil ? nil : wait)
                return (answer.entries, answer.meta)
            }
            return {
                guard let entries = try await query.next() else { return nil }
                return DiscoverySnapshot(prefix: prefix, entries: entries)
            }
        }
    }
}
