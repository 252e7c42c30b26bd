// SPDX-License-Identifier: Apache-2.0

/// A transfer that failed: the connection, TLS, a timeout, or the client was closed.
///
/// An HTTP status such as 404 is not an error: it arrives as a response. Cancelling the calling task throws
/// `CancellationError`, not this error. The URL in the error has no user information, query or fragment, so
/// the error can be logged.
package struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely: callers branch on it (retry on another endpoint, give up, ...).
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectFailed
            case timedOut
            case cancelled
            case closed
            case tls
            case connectionLost
            case invalidRequest
            case other
        }

        private let base: Base

        /// The host could not be resolved or the TCP connection was refused or unreachable.
        package static let connectFailed = Code(base: .connectFailed)

        /// A timeout expired: connecting, the whole request, or a stream's idle timeout.
        package static let timedOut = Code(base: .timedOut)

        /// libcurl aborted the transfer on the client's request, other than through task cancellation.
        package static let cancelled = Code(base: .cancelled)

        /// The client was closed before the transfer finished.
        package static let closed = Code(base: .closed)

        /// The TLS handshake failed, the certificate was not trusted, or a TLS file could not be used.
        package static let tls = Code(base: .tls)

        /// The connection broke after it was established: reset, closed early, or nothing received.
        package static let connectionLost = Code(base: .connectionLost)

        /// The request could not be sent as given: a malformed URL, an unsupported scheme, or a header with a
        /// line break.
        package static let invalidRequest = Code(base: .invalidRequest)

        /// Any other failure; ``HTTPError/curlCode`` tells which.
        package static let other = Code(base: .other)

        /// The code's name, such as `connectFailed`.
        package var description: String {
            switch self.base {
            case .connectFailed: "connectFailed"
            case .timedOut: "timedOut"
            case .cancelled: "cancelled"
            case .closed: "closed"
            case .tls: "tls"
            case .connectionLost: "connectionLost"
            case .invalidRequest: "invalidRequest"
            case .other: "other"
            }
        }
    }

    /// What went wrong.
    package var code: Code

    /// The request's URL as `scheme://host:port/path`, without user information, query or fragment.
    package var target: String

    /// What happened, in libcurl's words when libcurl reported it (`curl_easy_strerror`).
    package var message: String

    /// libcurl's detailed message for this transfer (its error buffer), when it gave one.
    package var detail: String?

    /// libcurl's `CURLcode`, when libcurl reported the failure.
    package var curlCode: Int?

    /// The name of ``curlCode``, such as `CURLE_COULDNT_CONNECT`.
    package var curlCodeName: String?

    /// Where in Beacon's source code the error was thrown, as `#fileID:#line`, for bug reports.
    package var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: What happened.
    ///   - target: The redacted URL (`scheme://host:port/path`).
    ///   - detail: A detailed message, if any.
    ///   - curlCode: libcurl's `CURLcode`, if libcurl reported the failure.
    ///   - curlCodeName: The name of `curlCode`.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    package init(
        _ code: Code,
        _ message: String,
        target: String,
        detail: String? = nil,
        curlCode: Int? = nil,
        curlCodeName: String? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.target = target
        self.fileID = fileID
        self.sourceLine = sourceLine
        self.message = message
        self.detail = detail
        self.curlCode = curlCode
        self.curlCodeName = curlCodeName
    }

    /// One line saying which URL and what happened, such as
    /// `connect to http://127.0.0.1:1/v3/kv/range failed: Couldn't connect to server (CURLE_COULDNT_CONNECT)`.
    package var description: String {
        var text =
            switch self.code {
            case .connectFailed: "connect to \(self.target) failed: \(self.message)"
            case .timedOut: "request to \(self.target) timed out: \(self.message)"
            default: "request to \(self.target) failed: \(self.message)"
            }
        if let name = self.curlCodeName {
            text += " (\(name))"
        }
        if let detail = self.detail, !detail.isEmpty, detail != self.message {
            text += "; \(detail)"
        }
        return text
    }
}

extension HTTPError {
    /// Whether the request failed to reach a working server (so that another server may succeed): anything but a
    /// cancellation, a closed client or a request that could not be made.
    package var isConnectionFailure: Bool {
        self.code != .cancelled && self.code != .closed && self.code != .invalidRequest
    }
}
