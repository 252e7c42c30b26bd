// SPDX-License-Identifier: Apache-2.0

import Logging

/// Follows a blocking-capable read of Consul's API, by the rules of Consul's documentation on blocking queries.
///
/// 1. The next request waits beyond the `X-Consul-Index` of the last answer (`?index=` with `?wait=`).
/// 2. When the index goes backwards (a snapshot restore, a deleted key that held the highest index), it is reset to 0
///    and the next request reads at once.
/// 3. The index sent is never below 1 (`index=0` never blocks, which would make a busy loop).
/// 4. A blocking request that returns at once without a change is followed by a pause, doubled each time it happens
///    again (from 50 ms to 5 s) and jittered, so that an agent that keeps answering at once is not hammered.
/// 5. Only answers that differ from the last one delivered are delivered: a return is no guarantee of a change.
///
/// Agents that cannot be reached, rate limits (HTTP 429) and server errors are retried with a backoff from 0.5 s to 5 s;
/// a refused token or a malformed request is thrown. Owned by one iterating task; not `Sendable`.
final class BlockingQuery<Value: Equatable & Sendable> {
    /// One read: at once when `index` is `nil`, else blocking beyond it for at most `wait`.
    typealias Read = (_ index: UInt64?, _ wait: Duration) async throws -> (Value, QueryMeta)

    private let read: Read
    private let wait: Duration
    private let logger: Logger
    private let subject: String
    private var index: UInt64 = 0
    private var lastDelivered: Value?
    private var pause: Duration = .zero
    private var retryDelay: Duration = .milliseconds(500)
    private var failing = false

    init(wait: Duration, subject: String, logger: Logger, read: @escaping Read) {
        self.wait = wait
        self.subject = subject
        self.logger = logger
        self.read = read
    }

    /// The index the next request waits beyond; 0 when it reads at once.
    var currentIndex: UInt64 { self.index }

    /// The next answer that differs from the last one delivered; `nil` once the task is cancelled.
    func next() async throws -> Value? {
        while true {
            if Task.isCancelled { return nil }
            let blocking = self.index > 0
            let started = ContinuousClock.now
            let value: Value
            let meta: QueryMeta
            do {
                (value, meta) = try await self.read(blocking ? self.index : nil, self.wait)
            } catch is CancellationError {
                return nil
            } catch let error as ConsulError where Self.isTransient(error) {
                if !self.failing {
                    self.logger.warning(
                        "Consul blocking query failed; retrying",
                        metadata: ["beacon.consul.subject": "\(self.subject)", "beacon.error": "\(error)"]
                    )
                    self.failing = true
                }
                do { try await Task.sleep(for: self.retryDelay.jittered) } catch { return nil }
                self.retryDelay = min(self.retryDelay * 2, .seconds(5))
                continue
            }
            if self.failing {
                self.logger.info(
                    "Consul blocking query recovered",
                    metadata: ["beacon.consul.subject": "\(self.subject)"]
                )
                self.failing = false
            }
            self.retryDelay = .milliseconds(500)
            let answeredAtOnce = started.duration(to: .now) < .milliseconds(20)
            if meta.index < self.index {
                self.logger.debug(
                    "Consul's index went backwards; reading again from the start",
                    metadata: ["beacon.consul.subject": "\(self.subject)", "beacon.consul.index": "\(meta.index)"]
                )
                self.index = 0
            } else {
                self.index = max(meta.index, 1)
            }
            if value != self.lastDelivered {
                self.lastDelivered = value
                self.pause = .zero
                return value
            }
            if blocking && answeredAtOnce {
                self.pause = self.pause == .zero ? .milliseconds(50) : min(self.pause * 2, .seconds(5))
                do { try await Task.sleep(for: self.pause.jittered) } catch { return nil }
            } else {
                self.pause = .zero
            }
        }
    }

    /// Whether retrying may help.
    private static func isTransient(_ error: ConsulError) -> Bool {
        error.code == .unavailable || error.code == .rateLimited || error.code == .server
            || error.code == .invalidResponse
    }
}

extension Duration {
    /// The duration scaled by a random factor between 0.5 and 1.
    var jittered: Duration {
        self * Double.random(in: 0.5...1)
    }
}
