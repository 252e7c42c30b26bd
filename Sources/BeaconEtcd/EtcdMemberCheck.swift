// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP

/// The health check of a watch's member: a frozen or partitioned member keeps the watch's connection open (its
/// kernel still accepts connections and answers TCP keep-alives) but sends nothing, so only asking it notices.
/// See ``EtcdClient/Configuration/watchCheckInterval``.
struct EtcdMemberCheck: Sendable {
    /// Thrown when the member did not answer the check.
    struct Unanswered: Error, CustomStringConvertible {
        /// The member's client URL.
        let endpoint: String
        /// What happened, for logs and errors.
        let description: String
    }

    let transport: EtcdTransport
    let interval: Duration
    let timeout: Duration

    /// The check for a client's configuration, or `nil` when it is turned off.
    init?(client: EtcdClient) {
        guard let interval = client.configuration.watchCheckInterval else { return nil }
        self.transport = client.transport
        self.interval = interval
        self.timeout = client.configuration.watchCheckTimeout
    }

    /// Returns once `endpoint` fails a check: asks it after each `interval` of waiting, for as long as it answers.
    ///
    /// - Parameter endpoint: The member's client URL.
    /// - Returns: What happened, once the member failed a check.
    /// - Throws: `CancellationError` when the calling task is cancelled.
    func untilUnanswered(_ endpoint: String) async throws -> Unanswered {
        while true {
            try await Task.sleep(for: self.interval)
            if try await !self.transport.answers(endpoint, within: self.timeout) {
                return Unanswered(
                    endpoint: endpoint,
                    description: "no answer to a check within \(self.timeout), "
                        + "after \(self.interval) of waiting"
                )
            }
        }
    }

    /// Runs `operation` (opening a stream) while checking `endpoint`; cancels it when the member fails a check.
    ///
    /// - Parameters:
    ///   - endpoint: The member `operation` talks to.
    ///   - operation: What to run.
    /// - Returns: What `operation` returned.
    /// - Throws: ``Unanswered`` when the member failed a check first, or what `operation` threw.
    func run<Value: Sendable>(
        against endpoint: String,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await operation() }
            group.addTask { throw try await self.untilUnanswered(endpoint) }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// The next chunk of `stream`, read in the calling task while a child task checks `endpoint`; a member that
    /// fails a check aborts `opened`, so that `next()` throws.
    ///
    /// - Parameters:
    ///   - stream: The stream's iterator.
    ///   - opened: The stream itself.
    ///   - endpoint: The member the stream comes from.
    /// - Returns: The chunk, or `nil` at the end of the stream.
    /// - Throws: ``HTTPError`` with ``HTTPError/Code/timedOut`` when the member failed a check, or what `next()`
    ///   threw.
    func next(
        _ stream: inout HTTPResponseStream.AsyncIterator,
        of opened: HTTPResponseStream,
        from endpoint: String
    ) async throws -> [UInt8]? {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let unanswered = try await self.untilUnanswered(endpoint)
                opened.abort(HTTPError(.timedOut, unanswered.description, target: endpoint))
            }
            defer { group.cancelAll() }
            return try await stream.next()
        }
    }
}
