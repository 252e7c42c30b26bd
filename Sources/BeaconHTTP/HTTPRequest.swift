// SPDX-License-Identifier: Apache-2.0

/// An HTTP request for ``HTTPClient/execute(_:)`` or ``HTTPClient/stream(_:)``.
package struct HTTPRequest: Sendable {
    /// The method, such as `"GET"` or `"POST"`.
    package var method: String

    /// The absolute URL, such as `"http://127.0.0.1:2379/v3/kv/range"`.
    package var url: String

    /// Header fields to send, in order, as (name, value) pairs.
    ///
    /// They may carry secrets (`Authorization`): the client never logs them. Names and values must not contain
    /// line breaks or NUL bytes.
    package var headers: [(String, String)]

    /// The body to send; empty for none. The client never logs it.
    package var body: [UInt8]

    /// The total time the transfer may take; `nil` uses ``HTTPClient/Configuration/requestTimeout`` for
    /// ``HTTPClient/execute(_:)`` and no total timeout for ``HTTPClient/stream(_:)``.
    package var timeout: Duration?

    /// For ``HTTPClient/stream(_:)``: how long the stream may receive nothing before it fails with
    /// ``HTTPError/Code/timedOut``; `nil` uses ``HTTPClient/Configuration/streamIdleTimeout``.
    package var idleTimeout: Duration?

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - method: The method, such as `"GET"` or `"POST"`.
    ///   - url: The absolute URL.
    ///   - headers: Header fields to send, as (name, value) pairs.
    ///   - body: The body to send; empty for none.
    ///   - timeout: The total time the transfer may take; `nil` for the configuration's default.
    ///   - idleTimeout: For streams, the longest silence allowed; `nil` for the configuration's default.
    package init(
        method: String = "GET",
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        timeout: Duration? = nil,
        idleTimeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.idleTimeout = idleTimeout
    }
}
