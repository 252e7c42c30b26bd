// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl
import Synchronization

/// One request on its way through libcurl: its easy handle, what it received, and whom to tell.
///
/// `@unchecked Sendable` is safe because the mutable stored properties (everything declared `var`) are touched
/// only with the loop's engine lock held (by the I/O thread or by a task driving libcurl): the submitting task
/// creates the transfer and hands it over inside that lock, and no code outside it reads those properties. The
/// properties that other threads use are immutable (`request`, `target`, `stream`) or synchronized themselves
/// (`cancelRequested` is atomic, ``StreamBuffer`` holds a `Lock`).
final class CurlTransfer: @unchecked Sendable {
    /// Whom to tell about the outcome.
    enum Completion {
        /// ``HTTPClient/execute(_:)``: the whole response, or the error.
        case response(TransferContinuation<HTTPResponse>)
        /// ``HTTPClient/stream(_:)``: the head, or the error before the head arrived.
        case head(TransferContinuation<HTTPResponseHead>)
    }

    /// Where the transfer is in its life in the engine.
    enum Phase {
        /// Created; not yet handed to the engine.
        case new
        /// Waiting for a slot under the per-host limit.
        case queued
        /// Its easy handle is in the multi handle.
        case running
        /// Finished, failed or cancelled; the completion was used.
        case done
    }

    /// The request as the caller gave it.
    let request: HTTPRequest

    /// The request's URL, parsed.
    let target: RequestTarget

    /// For ``HTTPClient/stream(_:)``: where the body goes. `nil` for ``HTTPClient/execute(_:)``.
    let stream: StreamBuffer?

    /// Set (before a cancel message is posted) when the caller's task is cancelled or the stream dropped, so
    /// that a transfer cancelled before the engine first saw it is never started.
    let cancelRequested = Atomic<Bool>(false)

    // MARK: Only with the engine lock held

    var completion: Completion?
    var phase = Phase.new
    /// Whether the transfer counts against its host's ``HTTPClient/Configuration/maxConnectionsPerHost``.
    var holdsHostSlot = false
    /// The slots of the transfer's host key, set at submission for a buffered request.
    var hostSlots: HostSlots?
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var connectToList: UnsafeMutablePointer<curl_slist>?
    var errorBuffer: UnsafeMutablePointer<CChar>?
    /// The retain held by libcurl's callback context pointers; released exactly once in ``releaseHandle(multi:)``.
    var context: Unmanaged<CurlTransfer>?
    var status = 0
    var headers = HTTPHeaderBlock()
    var headComplete = false
    var body: [UInt8] = []
    /// Set only when needed (reading the clock costs more than it seems in a virtual machine, and most transfers
    /// never need it): when transfers are logged.
    var startedAt = MonotonicInstant.origin
    /// For a stream: the longest silence allowed, and when libcurl last delivered anything.
    var idleTimeout: Duration?
    var lastActivity = MonotonicInstant.origin

    /// Creates a transfer.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - target: The request's URL, parsed.
    ///   - stream: The body's buffer for a stream, or `nil` for a buffered request.
    init(request: HTTPRequest, target: RequestTarget, stream: StreamBuffer?) {
        self.request = request
        self.target = target
        self.stream = stream
    }

    deinit {
        assert(self.easy == nil && self.context == nil, "a transfer was dropped with its easy handle still alive")
    }

    /// The head received so far: status and headers.
    var head: HTTPResponseHead {
        HTTPResponseHead(status: self.status, headers: self.headers)
    }

    /// libcurl's message for this transfer, if it wrote one into the error buffer.
    var errorDetail: String? {
        guard let errorBuffer = self.errorBuffer, errorBuffer[0] != 0 else { return nil }
        var detail = Substring(String(cString: errorBuffer))
        while let last = detail.last, last == " " || last == "\n" || last == "\r" {
            detail = detail.dropLast()
        }
        return detail.isEmpty ? nil : String(detail)
    }

    /// Removes the easy handle from the multi handle and frees everything libcurl held for this transfer.
    ///
    /// - Parameters:
    ///   - multi: The multi handle the easy handle was added to (if it was added).
    ///   - keepingHandle: Whether to return the easy handle instead of cleaning it up, for another transfer.
    /// - Returns: The easy handle when `keepingHandle` is true and there was one: out of the multi handle, with
    ///   the client's options kept and nothing pointing at this transfer any more.
    @discardableResult
    func releaseHandle(multi: UnsafeMutableRawPointer, keepingHandle: Bool = false) -> UnsafeMutableRawPointer? {
        var kept: UnsafeMutableRawPointer?
        if let easy = self.easy {
            if self.phase == .running {
                curl_multi_remove_handle(multi, easy)
            }
            if keepingHandle {
                // Detached from what is freed below; the next transfer sets every per-request option again.
                _ = cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, nil)
                _ = cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, nil)
                _ = cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_CONNECT_TO, nil)
                _ = cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, nil)
                _ = cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, nil)
                kept = easy
            } else {
                curl_easy_cleanup(easy)
            }
            self.easy = nil
        }
        curl_slist_free_all(self.headerList)
        self.headerList = nil
        curl_slist_free_all(self.connectToList)
        self.connectToList = nil
        self.errorBuffer?.deallocate()
        self.errorBuffer = nil
        self.context?.release()
        self.context = nil
        return kept
    }
}

/// The status line and header fields of a response, without the body.
struct HTTPResponseHead: Sendable {
    /// The status code.
    var status: Int
    /// The header fields, in order.
    var headers: HTTPHeaderBlock
}
