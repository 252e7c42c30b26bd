// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// The bounded hand-off of a stream's body from the I/O thread (producer) to one consuming task.
///
/// The producer offers bytes from libcurl's write callback; when ``limit`` bytes are already waiting, it refuses
/// them and the transfer pauses (`CURL_WRITEFUNC_PAUSE`: libcurl keeps the bytes and offers them again). The
/// consumer takes everything waiting at once; if the producer was paused, the consumer asks the I/O thread to
/// resume the transfer. So nothing is lost, and at most `limit` bytes plus one network read are buffered.
final class StreamBuffer: Sendable {
    /// How a stream ended.
    private enum End {
        case finished
        case failed(any Error)
    }

    private struct State {
        var pending: [UInt8] = []
        var end: End?
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        var paused = false
    }

    /// What ``take(_:)`` decided, carried out after the lock is released.
    enum TakeResult {
        /// Bytes to return; `resume` says whether the I/O thread must resume the paused transfer.
        case bytes([UInt8], resume: Bool)
        /// The stream ended normally.
        case finished
        /// The stream failed.
        case failed(any Error)
        /// Nothing yet: the continuation was stored and will be resumed by the producer.
        case waiting
    }

    /// The most bytes kept for the consumer before the transfer pauses.
    let limit: Int

    private let state = Lock(State())

    /// Creates an empty buffer.
    ///
    /// - Parameter limit: The most bytes kept before the transfer pauses.
    init(limit: Int) {
        self.limit = max(1, limit)
    }

    // MARK: Producer (the I/O thread)

    /// Offers bytes from the write callback.
    ///
    /// - Parameter bytes: The bytes libcurl delivered.
    /// - Returns: `false` when the buffer is full: the bytes were not taken and the callback must pause the transfer.
    func offer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var accepted = true
        let delivery: (CheckedContinuation<[UInt8]?, any Error>, [UInt8])? = self.state.withLock { state in
            if state.end != nil {
                // The consumer is gone or the stream failed: drop the bytes; the transfer is being removed.
                return nil
            }
            if let waiter = state.waiter {
                // A consumer waits only when nothing is pending.
                state.waiter = nil
                return (waiter, Array(bytes))
            }
            if state.pending.count >= self.limit {
                state.paused = true
                accepted = false
                return nil
            }
            state.pending.append(contentsOf: bytes)
            return nil
        }
        if let (waiter, bytes) = delivery {
            waiter.resume(returning: bytes)
        }
        return accepted
    }

    /// Ends the stream: the consumer gets the bytes still waiting, then the end (or the error).
    ///
    /// Only the first end counts.
    ///
    /// - Parameter error: The transfer's error, or `nil` when the body ended normally.
    func finish(_ error: (any Error)?) {
        let waiter: CheckedContinuation<[UInt8]?, any Error>? = self.state.withLock { state in
            guard state.end == nil else { return nil }
            state.end = error.map { .failed($0) } ?? .finished
            defer { state.waiter = nil }
            return state.waiter
        }
        if let waiter {
            // A waiter exists only when nothing is pending.
            if let error {
                waiter.resume(throwing: error)
            } else {
                waiter.resume(returning: nil)
            }
        }
    }

    // MARK: Consumer

    /// Whether bytes wait for the consumer (the producer may be paused): the stream is then slow to be read, not
    /// idle.
    var hasUnreadBytes: Bool {
        self.state.withLock { $0.paused || !$0.pending.isEmpty }
    }

    /// Whether the stream has ended (normally, with an error, or because the consumer left).
    var isFinished: Bool {
        self.state.withLock { $0.end != nil }
    }

    /// Takes every byte waiting, or the end, or stores `continuation` to be resumed when either arrives.
    ///
    /// Called by the single consumer; a second consumer waiting at the same time is a programming error.
    ///
    /// - Parameter continuation: The continuation to store when nothing is available yet.
    /// - Returns: What to do with `continuation`; for `.waiting` the buffer owns it.
    func take(_ continuation: CheckedContinuation<[UInt8]?, any Error>) -> TakeResult {
        self.state.withLock { state in
            if !state.pending.isEmpty {
                let bytes = state.pending
                state.pending = []
                let resume = state.paused
                state.paused = false
                return .bytes(bytes, resume: resume)
            }
            switch state.end {
            case .finished: return .finished
            case .failed(let error):
                // Thrown once; afterwards the iterator reports the end, as AsyncSequence iterators do.
                state.end = .finished
                return .failed(error)
            case nil: break
            }
            precondition(state.waiter == nil, "an HTTPResponseStream supports one iterator at a time")
            state.waiter = continuation
            return .waiting
        }
    }

    /// Ends the stream from the consumer's side (task cancelled, stream dropped): a waiting `next()` throws
    /// `CancellationError`, bytes still waiting are dropped, and later offers are ignored.
    func cancel() {
        let waiter: CheckedContinuation<[UInt8]?, any Error>? = self.state.withLock { state in
            state.pending = []
            if state.end == nil {
                state.end = .failed(CancellationError())
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: CancellationError())
    }
}
