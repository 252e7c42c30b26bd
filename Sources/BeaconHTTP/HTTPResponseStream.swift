// SPDX-License-Identifier: Apache-2.0

/// A response whose body arrives over time, as ``HTTPClient/stream(_:)`` returns it: an etcd watch, for example.
///
/// Iterate it once (one iterator at a time). Each element holds the body bytes received since the previous
/// element: one or more network reads, never empty, split anywhere (not on lines or messages). Iteration ends at
/// the end of the body; a transfer error (a broken connection, the idle timeout, ``HTTPClient/close()``) throws
/// ``HTTPError``.
///
/// Cancelling the iterating task aborts the transfer at once and `next()` throws `CancellationError`; so does
/// dropping the stream and its iterators before the end. A consumer slower than the network pauses the transfer
/// once ``HTTPClient/Configuration/streamBufferLimit`` bytes wait, and it resumes when the consumer catches up, so
/// no byte is lost and memory stays bounded.
package struct HTTPResponseStream: AsyncSequence, Sendable {
    /// A chunk of the body.
    package typealias Element = [UInt8]

    /// Errors thrown by iteration: ``HTTPError`` or `CancellationError`.
    package typealias Failure = any Error

    /// The status code.
    package let status: Int

    /// The header fields, in the order received.
    package var headers: [(name: String, value: String)] { self.headerBlock.fields }

    private let headerBlock: HTTPHeaderBlock

    private let handle: StreamHandle

    /// Wraps the head and the transfer.
    ///
    /// - Parameters:
    ///   - head: The status and headers.
    ///   - handle: The transfer and its buffer.
    init(head: HTTPResponseHead, handle: StreamHandle) {
        self.status = head.status
        self.headerBlock = head.headers
        self.handle = handle
    }

    /// The value of the first header field with this name, compared without regard to case.
    ///
    /// - Parameter name: A header name, such as `"Content-Type"`.
    /// - Returns: The field's value, or `nil` when the response has no such field.
    package func header(_ name: String) -> String? {
        self.headerBlock.value(named: name)
    }

    /// Ends the stream from outside its iterating task, for example when a check finds the server no longer
    /// answers: the iterator's waiting (or next) `next()` gets the bytes already received, then throws `error`;
    /// the transfer is aborted.
    ///
    /// - Parameter error: What `next()` throws.
    package func abort(_ error: HTTPError) {
        self.handle.abort(error)
    }

    /// Returns the iterator over the body's chunks.
    ///
    /// - Returns: The iterator.
    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: self.handle)
    }

    /// The iterator over the body's chunks.
    package struct AsyncIterator: AsyncIteratorProtocol {
        private let handle: StreamHandle

        init(handle: StreamHandle) {
            self.handle = handle
        }

        /// The next chunk of the body.
        ///
        /// - Returns: The bytes received since the previous call, or `nil` at the end of the body.
        /// - Throws: ``HTTPError`` when the transfer fails, or `CancellationError` when the task is cancelled.
        package mutating func next() async throws -> [UInt8]? {
            try await self.handle.next()
        }
    }
}

/// The consumer's side of a streaming transfer, shared by the stream and its iterators; dropping the last of them
/// aborts the transfer.
final class StreamHandle: Sendable {
    private let loop: CurlLoop
    private let transfer: CurlTransfer
    private let buffer: StreamBuffer

    /// Creates the handle.
    ///
    /// - Parameters:
    ///   - loop: The I/O thread's loop.
    ///   - transfer: The transfer.
    ///   - buffer: The transfer's body buffer.
    init(loop: CurlLoop, transfer: CurlTransfer, buffer: StreamBuffer) {
        self.loop = loop
        self.transfer = transfer
        self.buffer = buffer
    }

    deinit {
        if !self.buffer.isFinished {
            self.cancel()
        }
    }

    /// The next chunk, the end (`nil`), or the error; waits until one is there.
    ///
    /// - Returns: The bytes waiting, or `nil` at the end.
    /// - Throws: The transfer's error, or `CancellationError`.
    func next() async throws -> [UInt8]? {
        if Task.isCancelled {
            self.cancel()
            throw CancellationError()
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                switch self.buffer.take(continuation) {
                case .bytes(let bytes, let resume):
                    if resume {
                        self.loop.resume(self.transfer)
                    }
                    continuation.resume(returning: bytes)
                case .finished:
                    continuation.resume(returning: nil)
                case .failed(let error):
                    continuation.resume(throwing: error)
                case .waiting:
                    break
                }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Ends the stream with `error` for the consumer and aborts the transfer.
    ///
    /// - Parameter error: What the consumer's `next()` throws once the bytes already received are read.
    func abort(_ error: HTTPError) {
        self.buffer.finish(error)
        self.loop.cancel(self.transfer)
    }

    /// Ends the stream for the consumer and aborts the transfer.
    private func cancel() {
        self.buffer.cancel()
        self.loop.cancel(self.transfer)
    }
}
