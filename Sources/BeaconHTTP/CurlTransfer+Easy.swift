// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl

extension CurlTransfer {
    /// Creates and configures the easy handle, or configures one that an earlier transfer left. With the engine
    /// lock held.
    ///
    /// A new handle first gets the options that are the same for every request of the client
    /// (``setClientOptions(configuration:)``); a recycled one has them already. Every handle then gets all the
    /// options that vary per request, each set to this request's value or back to libcurl's default, so that
    /// nothing of the previous request carries over.
    ///
    /// On failure the caller still calls ``releaseHandle(multi:keepingHandle:)``, which frees whatever was created.
    ///
    /// - Parameters:
    ///   - configuration: The client's configuration.
    ///   - recycled: The easy handle of an earlier buffered transfer that ended well, to use instead of a new one.
    /// - Throws: ``HTTPError`` with ``HTTPError/Code/invalidRequest`` for a request that cannot be sent, or the
    ///   error libcurl gave for an option.
    func makeEasyHandle(
        configuration: HTTPClient.Configuration,
        recycled: UnsafeMutableRawPointer? = nil
    ) throws(HTTPError) {
        if let recycled {
            // Owned from here on, so that a failure below frees it with the rest.
            self.easy = recycled
        }
        try self.validate()
        if self.easy == nil {
            guard let easy = curl_easy_init() else {
                throw HTTPError(.other, "curl_easy_init failed", target: self.target.redacted)
            }
            self.easy = easy
            try self.setClientOptions(configuration: configuration)
        }
        let easy = self.easy!
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer[0] = 0
        self.errorBuffer = errorBuffer
        let context = Unmanaged.passRetained(self)
        self.context = context

        try self.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        let timeout = self.request.timeout ?? (self.stream == nil ? configuration.requestTimeout : nil)
        try self.set(CURLOPT_TIMEOUT_MS, timeout?.curlMilliseconds ?? 0)
        if self.stream != nil {
            // Checked by the engine on each turn (libcurl's low-speed limit averages over seconds: too coarse).
            self.idleTimeout = self.request.idleTimeout ?? configuration.streamIdleTimeout
            self.lastActivity = .now
        }
        try self.setURL(configuration.tls)
        try self.setMethodAndBody()
        try self.setHeaders()
        try self.check(cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context.toOpaque()))
        try self.check(cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context.toOpaque()))
    }

    /// Sets the options that every request of the client shares: protocol, timeouts, keep-alive, TLS and the
    /// callbacks. Once per easy handle; they survive its reuse.
    private func setClientOptions(configuration: HTTPClient.Configuration) throws(HTTPError) {
        let easy = self.easy!
        // Defense in depth (a URL can only be http or https); libcurl before 7.85 lacks the option: ignore it then.
        _ = cbeacon_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        try self.set(CURLOPT_NOSIGNAL, 1)
        try self.set(CURLOPT_HTTP_VERSION, cbeacon_curl_http_version_1_1())
        try self.set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlMilliseconds)
        try self.set(CURLOPT_TCP_KEEPALIVE, 1)
        try self.set(CURLOPT_TCP_KEEPIDLE, configuration.tcpKeepAliveInterval.curlSeconds)
        try self.set(CURLOPT_TCP_KEEPINTVL, configuration.tcpKeepAliveInterval.curlSeconds)
        // Used by https URLs only; a plain http transfer ignores them.
        let tls = configuration.tls
        if let path = tls.caBundlePath { try self.set(CURLOPT_CAINFO, path) }
        if let path = tls.certificatePath { try self.set(CURLOPT_SSLCERT, path) }
        if let path = tls.privateKeyPath { try self.set(CURLOPT_SSLKEY, path) }
        try self.set(CURLOPT_SSL_VERIFYPEER, tls.verifyPeer ? 1 : 0)
        try self.set(CURLOPT_SSL_VERIFYHOST, tls.verifyPeer ? 2 : 0)
        try self.check(
            cbeacon_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
            }
        )
        try self.check(
            cbeacon_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }
        )
    }

    /// Rejects what libcurl would send wrongly or not at all: header injection, NUL bytes, odd methods.
    private func validate() throws(HTTPError) {
        func invalid(_ message: String) -> HTTPError {
            HTTPError(.invalidRequest, message, target: self.target.redacted)
        }
        guard !self.request.url.utf8.contains(0) else { throw invalid("the URL contains a NUL byte") }
        guard !self.request.method.isEmpty,
            self.request.method.utf8.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) || $0 == 45 })
        else {
            throw invalid("the method is not a token of letters")
        }
        for (name, value) in self.request.headers {
            let forbidden: (UInt8) -> Bool = { $0 == 13 || $0 == 10 || $0 == 0 }
            guard !name.isEmpty, !name.utf8.contains(where: { forbidden($0) || $0 == 58 || $0 == 32 }) else {
                throw invalid("a header name is empty or contains a colon, a space or a line break")
            }
            guard !value.utf8.contains(where: forbidden) else {
                throw invalid("the value of header \(name) contains a line break or a NUL byte")
            }
        }
    }

    /// Sets the URL; for `https` with a configured server name, the URL names that server and libcurl connects
    /// to the URL's host instead (`CURLOPT_CONNECT_TO`), so that certificate checks use the name.
    private func setURL(_ tls: HTTPClient.Configuration.TLS) throws(HTTPError) {
        var url = self.request.url
        if self.target.scheme == "https", let serverName = tls.serverName, !serverName.isEmpty {
            url = "https://\(serverName):\(self.target.port)\(self.target.rest)"
            self.connectToList = curl_slist_append(
                nil,
                "\(serverName):\(self.target.port):\(self.target.host):\(self.target.port)"
            )
        }
        try self.set(CURLOPT_CONNECT_TO, pointer: UnsafeMutableRawPointer(self.connectToList))
        try self.set(CURLOPT_URL, url)
    }

    /// Sets the method and, when there is one, the body (copied by libcurl). Starts from a plain GET, so that a
    /// reused handle keeps neither the method nor the body of its previous request.
    private func setMethodAndBody() throws(HTTPError) {
        // Methods are ASCII letters (checked by validate()); the common ones come uppercase and are not copied.
        let method = Self.isUppercase(self.request.method) ? self.request.method : self.request.method.uppercased()
        let body = self.request.body
        try self.set(CURLOPT_HTTPGET, 1)
        try self.check(cbeacon_curl_easy_setopt_string(self.easy!, CURLOPT_CUSTOMREQUEST, nil))
        switch method {
        case "GET" where body.isEmpty:
            break
        case "HEAD" where body.isEmpty:
            try self.set(CURLOPT_NOBODY, 1)
        default:
            if method == "POST" || !body.isEmpty {
                try self.check(
                    cbeacon_curl_easy_setopt_off_t(self.easy!, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                )
                if body.isEmpty {
                    try self.set(CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    let easy = self.easy!
                    try self.check(
                        body.withUnsafeBytes { bytes in
                            let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                            return cbeacon_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer)
                        }
                    )
                }
            }
            if method != "POST" {
                try self.set(CURLOPT_CUSTOMREQUEST, method)
            }
        }
    }

    /// Whether a text has no lowercase ASCII letter.
    private static func isUppercase(_ text: String) -> Bool {
        !text.utf8.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }

    /// Sets the caller's headers, plus, for a request with a body, an empty `Expect:` so that libcurl never waits
    /// for `100 Continue` (it asks for one only for bodies). A request without headers or body sets no list at all:
    /// libcurl then looks for none of its own headers in it.
    private func setHeaders() throws(HTTPError) {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in self.request.headers {
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if !self.request.body.isEmpty {
            list = curl_slist_append(list, "Expect:")
        }
        self.headerList = list
        try self.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(list))
    }

    // MARK: Callbacks (engine lock held: inside curl_multi_socket_action or curl_easy_pause)

    /// The write callback: body bytes.
    ///
    /// - Parameter bytes: The bytes libcurl received.
    /// - Returns: The number of bytes taken, or `CURL_WRITEFUNC_PAUSE` when a stream's buffer is full.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let stream = self.stream else {
            self.body.append(contentsOf: bytes)
            return bytes.count
        }
        self.lastActivity = .now
        return stream.offer(bytes) ? bytes.count : cbeacon_curl_writefunc_pause()
    }

    /// The header callback: one header line, the status line, or the blank line ending the head.
    ///
    /// - Parameter bytes: The line, with its line break.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        if self.idleTimeout != nil {
            self.lastActivity = .now
        }
        guard !self.headComplete else { return }  // trailers of a chunked body
        // Bytes, not characters: every delimiter is ASCII, and grapheme breaking would cost more than the rest of
        // the request's handling.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        if end == 0 {
            var status = 0
            _ = cbeacon_curl_easy_getinfo_long(self.easy!, CURLINFO_RESPONSE_CODE, &status)
            guard status >= 200 else { return }  // the end of an interim (1xx) response
            self.status = status
            self.headComplete = true
            if self.stream != nil, case .head(let continuation) = self.completion {
                self.completion = nil
                continuation.resume(returning: self.head)
            }
        } else if end >= 5, bytes.starts(with: "HTTP/".utf8) {
            self.headers.removeAll()
        } else {
            self.headers.append(line: UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        }
    }

    // MARK: Setting options

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPError) {
        try self.check(cbeacon_curl_easy_setopt_long(self.easy!, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPError) {
        try self.check(cbeacon_curl_easy_setopt_string(self.easy!, option, value))
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(HTTPError) {
        try self.check(cbeacon_curl_easy_setopt_pointer(self.easy!, option, pointer))
    }

    private func check(_ code: CURLcode) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw HTTPError(curlCode: code, target: self.target.redacted, detail: self.errorDetail)
        }
    }
}
