// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
import BeaconLocks
import Logging

/// Sends etcd gateway requests: JSON in and out, moving to the next endpoint on connection failures, and
/// authenticating (and re-authenticating once when a token is rejected) when credentials are configured.
final class EtcdTransport: Sendable {
    private struct State {
        var current = 0
        var token: String?
    }

    let http: HTTPClient
    let endpoints: [String]
    private let credentials: EtcdClient.Credentials?
    private let requestTimeout: Duration
    private let logger: Logger
    private let state = Lock(State())

    init(configuration: EtcdClient.Configuration, logger: Logger) throws(EtcdError) {
        guard !configuration.endpoints.isEmpty else {
            throw EtcdError(.invalidConfiguration, "no endpoint is configured", operation: "configure")
        }
        let endpoints = try ServerURL.normalized(configuration.endpoints) { endpoint in
            EtcdError(
                .invalidConfiguration,
                "endpoint \"\(endpoint)\" is not an http:// or https:// URL with a host and no user, query or "
                    + "fragment (the user and password go in the configuration's credentials)",
                operation: "configure"
            )
        }
        let http = HTTPClient.Configuration(
            connectTimeout: configuration.connectTimeout,
            requestTimeout: configuration.requestTimeout,
            tls: configuration.tls,
            ioThread: configuration.ioThread
        )
        self.http = HTTPClient(configuration: http, logger: logger)
        self.endpoints = endpoints
        self.credentials = configuration.credentials
        self.requestTimeout = configuration.requestTimeout
        self.logger = logger
    }

    /// The endpoint requests go to now.
    var currentEndpoint: String { self.endpoints[self.state.withLock { $0.current }] }

    func close() {
        self.http.close()
    }

    /// The message of the ``EtcdError/Code/closed`` error that replaces `error`: the client was closed, or its
    /// shared I/O thread (``EtcdClient/Configuration/ioThread``) was shut down.
    ///
    /// - Parameter error: An ``HTTPError`` with code ``HTTPError/Code/closed``.
    /// - Returns: The message.
    static func closedMessage(_ error: HTTPError) -> String {
        error.isIOThreadShutDown ? "the client's shared I/O thread was shut down" : "the client is closed"
    }

    // MARK: Unary calls

    /// Sends one request and decodes the answer, trying each endpoint once at most.
    ///
    /// With `ignoringCancellation`, the request goes on when the calling task is cancelled (for clean-up such as
    /// revoking a lease while the client's service stops); its timeout and ``close()`` still bound it.
    func call<Request: WireRequest, Response: WireResponse>(
        _ operation: String,
        path: String,
        _ request: Request,
        as: Response.Type = Response.self,
        timeout: Duration? = nil,
        ignoringCancellation: Bool = false
    ) async throws -> Response {
        let response = try await self.send(
            operation,
            path: path,
            body: request.json,
            timeout: timeout,
            ignoringCancellation: ignoringCancellation
        ) { http, request in
            ignoringCancellation ? try await http.executeIgnoringCancellation(request) : try await http.execute(request)
        }
        do {
            return try Response(document: response.value.body)
        } catch {
            throw EtcdError(
                .invalidResponse,
                "the answer is not the expected JSON",
                operation: operation,
                target: response.endpoint,
                underlying: error
            )
        }
    }

    /// Opens a streaming request (a watch), trying each endpoint once at most.
    func openStream(
        _ operation: String,
        path: String,
        body: [UInt8],
        idleTimeout: Duration
    ) async throws -> (HTTPResponseStream, String) {
        let opened = try await self.send(operation, path: path, body: body, idleTimeout: idleTimeout) {
            http,
            request in
            try await http.stream(request)
        }
        return (opened.value, opened.endpoint)
    }

    /// Whether a member answers `GET /version` within `timeout`: the check a silent watch makes
    /// (``EtcdClient/Configuration/watchCheckInterval``). `/version` is answered by the member's HTTP server alone;
    /// `/health` would cost a quorum read through the raft log (a write and an fsync) for every check of every watch,
    /// and takes over a second on a busy disk.
    ///
    /// - Parameters:
    ///   - endpoint: The member's client URL.
    ///   - timeout: How long to wait for the answer.
    /// - Returns: `false` when the member did not answer in time or could not be reached.
    /// - Throws: `CancellationError` when the calling task is cancelled.
    func answers(_ endpoint: String, within timeout: Duration) async throws -> Bool {
        do {
            let response = try await self.http.execute(HTTPRequest(url: endpoint + "/version", timeout: timeout))
            return response.status == 200
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return false
        }
    }

    /// Moves to the next endpoint after `failed` (unless another task already moved on).
    func moveOn(from failed: String) {
        self.state.withLock { state in
            if self.endpoints[state.current] == failed {
                state.current = (state.current + 1) % self.endpoints.count
            }
        }
    }

    /// Forgets the token so that the next request authenticates again.
    func invalidateToken() {
        self.state.withLock { $0.token = nil }
    }

    // MARK: The retry loop

    /// The outcome of one attempt: a value, or etcd's error answer (status and body).
    enum Attempt<Value: Sendable>: Sendable {
        case success(Value)
        case failed(status: Int, body: [UInt8])
    }

    private func send<Value: Sendable>(
        _ operation: String,
        path: String,
        body: [UInt8],
        timeout: Duration? = nil,
        idleTimeout: Duration? = nil,
        ignoringCancellation: Bool = false,
        perform: (HTTPClient, HTTPRequest) async throws -> Value
    ) async throws -> (value: Value, endpoint: String) where Value: EtcdHTTPAnswer {
        var attempts = 0
        var failedEndpoints = 0
        var reauthenticated = false
        var lastError: (any Error)?
        while failedEndpoints < self.endpoints.count {
            let endpoint = self.currentEndpoint
            attempts += 1
            do {
                var headers = [("Content-Type", "application/json")]
                if self.credentials != nil {
                    let token = try await self.token(at: endpoint, ignoringCancellation: ignoringCancellation)
                    headers.append(("Authorization", token))
                }
                var request = HTTPRequest(
                    method: "POST",
                    url: endpoint + path,
                    headers: headers,
                    body: body,
                    timeout: timeout
                )
                request.idleTimeout = idleTimeout
                let answer = try await perform(self.http, request)
                if answer.status == 200 { return (answer, endpoint) }
                let error = Self.serverError(
                    operation,
                    endpoint: endpoint,
                    status: answer.status,
                    body: try await answer.collectedBody()
                )
                if error.grpcCode == 16, self.credentials != nil, !reauthenticated {
                    // The token expired (idle) or died with a server restart: authenticate once more.
                    self.logger.debug(
                        "etcd rejected the token; authenticating again",
                        metadata: ["beacon.etcd.endpoint": "\(endpoint)"]
                    )
                    reauthenticated = true
                    self.invalidateToken()
                    continue
                }
                if error.grpcCode == 14 {
                    // "unavailable": the member has no leader or is shutting down; another member may answer.
                    lastError = error
                    failedEndpoints += 1
                    self.moveOn(from: endpoint)
                    continue
                }
                throw error
            } catch let error as HTTPError where error.code == .closed {
                throw EtcdError(.closed, Self.closedMessage(error), operation: operation, underlying: error)
            } catch let error as HTTPError where error.isConnectionFailure {
                self.logger.debug(
                    "etcd endpoint failed; moving to the next",
                    metadata: ["beacon.etcd.endpoint": "\(endpoint)", "beacon.error": "\(error)"]
                )
                lastError = error
                failedEndpoints += 1
                self.moveOn(from: endpoint)
            }
        }
        throw EtcdError(
            .unavailable,
            "no endpoint answered (tried \(self.endpoints.joined(separator: ", ")))",
            operation: operation,
            attempts: attempts,
            underlying: lastError
        )
    }

    /// The current token, authenticating first when there is none.
    private func token(at endpoint: String, ignoringCancellation: Bool) async throws -> String {
        if let token = self.state.withLock({ $0.token }) { return token }
        guard let credentials = self.credentials else { return "" }
        let body = WireAuthenticateRequest(name: credentials.username, password: credentials.password).json
        let request = HTTPRequest(
            method: "POST",
            url: endpoint + "/v3/auth/authenticate",
            headers: [("Content-Type", "application/json")],
            body: body,
            timeout: nil
        )
        let response =
            ignoringCancellation
            ? try await self.http.executeIgnoringCancellation(request) : try await self.http.execute(request)
        guard response.status == 200 else {
            var error = Self.serverError(
                "authenticate",
                endpoint: endpoint,
                status: response.status,
                body: response.body
            )
            if error.code == .authenticationFailed {
                error.message = "user \"\(credentials.username)\" was rejected: invalid user name or password"
            }
            throw error
        }
        guard let token = try? WireAuthenticateResponse(document: response.body).token
        else {
            throw EtcdError(
                .invalidResponse,
                "the answer holds no token",
                operation: "authenticate",
                target: endpoint
            )
        }
        self.state.withLock { $0.token = token }
        return token
    }

    /// Turns etcd's error answer (`{"error","message","code"}`) into an ``EtcdError``.
    static func serverError(_ operation: String, endpoint: String, status: Int, body: [UInt8]) -> EtcdError {
        let answer = try? WireErrorResponse(document: body)
        let message = answer?.message ?? answer?.error ?? "HTTP status \(status)"
        let grpcCode = answer?.code
        let code: EtcdError.Code
        switch grpcCode {
        case 7: code = .permissionDenied
        case 5 where message.contains("lease"): code = .leaseNotFound
        case 11 where message.contains("compacted"): code = .compacted
        case 3 where message.contains("authentication failed"): code = .authenticationFailed
        case 3 where message.contains("user name is empty"): code = .authenticationFailed
        default: code = .server
        }
        return EtcdError(code, message, operation: operation, target: endpoint, grpcCode: grpcCode)
    }
}

/// What the retry loop needs from an HTTP answer, buffered or streamed.
protocol EtcdHTTPAnswer: Sendable {
    var status: Int { get }
    func collectedBody() async throws -> [UInt8]
}

extension HTTPResponse: EtcdHTTPAnswer {
    func collectedBody() async throws -> [UInt8] { self.body }
}

extension HTTPResponseStream: EtcdHTTPAnswer {
    func collectedBody() async throws -> [UInt8] {
        var body: [UInt8] = []
        for try await chunk in self { body += chunk }
        return body
    }
}
