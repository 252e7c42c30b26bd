// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import BeaconLocks
import Logging

/// What a blocking-capable read says about itself, from Consul's response headers.
public struct QueryMeta: Hashable, Sendable {
    /// `X-Consul-Index`: the index the answer reflects, where a blocking query continues from (at least 1).
    public var index: UInt64
    /// `X-Consul-KnownLeader`: whether the answering server knew a leader.
    public var knownLeader: Bool
    /// `X-Consul-LastContact`: how long since the answering server last heard from the leader (zero on the leader);
    /// what a ``ConsulClient/Consistency/stale`` read may lag by.
    public var lastContact: Duration
    /// The agent that answered.
    public var agent: String

    /// Meta for an answer without headers (a test's).
    init(agent: String) {
        self.index = 0
        self.knownLeader = false
        self.lastContact = .zero
        self.agent = agent
    }

    /// Reads the headers of a response.
    init(_ response: HTTPResponse, agent: String) {
        self.index = response.header("X-Consul-Index").flatMap { UInt64($0) } ?? 0
        self.knownLeader = response.header("X-Consul-KnownLeader") == "true"
        self.lastContact = .milliseconds(response.header("X-Consul-LastContact").flatMap { Int64($0) } ?? 0)
        self.agent = agent
    }
}

/// One request to Consul's HTTP API.
struct ConsulRequest: Sendable {
    var operation: String
    /// The Beacon key, prefix or service, for errors.
    var subject: String?
    var method: String
    /// The path below the agent's address, already percent-encoded, such as `/v1/kv/db/main`.
    var path: String
    var query: [(name: String, value: String?)] = []
    var body: [UInt8] = []
    /// Whether the request reads (and takes the consistency mode).
    var isRead = false
    /// A timeout other than the configured one (blocking queries wait longer).
    var timeout: Duration?
    var ignoringCancellation = false
    /// An agent to send to, without moving to another (a registration's own agent); `nil` for the current one.
    var agent: String?
}

extension ConsulRequest {
    /// Makes the request a blocking query: it waits beyond `index` for at most `wait`.
    ///
    /// The agent answers after `wait`, plus up to 1/16 of it as jitter, so the request's timeout allows that and a
    /// margin.
    mutating func block(beyond index: UInt64, for wait: Duration, margin: Duration) {
        self.query += [("index", String(index)), ("wait", wait.goDuration)]
        self.timeout = wait + wait / 16 + margin
    }
}

/// Sends Consul requests: one agent at a time, moving to the next on connection failures, with the ACL token in the
/// `X-Consul-Token` header, the datacenter and the consistency mode as query parameters.
final class ConsulTransport: Sendable {
    let http: HTTPClient
    let agents: [String]
    private let configuration: ConsulClient.Configuration
    private let logger: Logger
    private let current = Lock(0)

    init(configuration: ConsulClient.Configuration, logger: Logger) throws(ConsulError) {
        guard !configuration.agents.isEmpty else {
            throw ConsulError(.invalidConfiguration, "no agent is configured", operation: "configure")
        }
        let agents = try ServerURL.normalized(configuration.agents) { agent in
            ConsulError(
                .invalidConfiguration,
                "agent \"\(agent)\" is not an http:// or https:// URL with a host and no user, query or fragment "
                    + "(the ACL token goes in the configuration's token)",
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
        self.agents = agents
        self.configuration = configuration
        self.logger = logger
    }

    /// The agent requests go to now.
    var currentAgent: String { self.agents[self.current.withLock { $0 }] }

    func close() {
        self.http.close()
    }

    /// Moves to the next agent after `failed` (unless another task already moved on).
    private func moveOn(from failed: String) {
        self.current.withLock { current in
            if self.agents[current] == failed { current = (current + 1) % self.agents.count }
        }
    }

    /// Sends a request, trying each agent once at most, and returns the answer when its status is 200 or 404 (which
    /// Consul uses for a missing key); any other status is thrown as a ``ConsulError``.
    func send(_ request: ConsulRequest) async throws -> (response: HTTPResponse, agent: String) {
        var attempts = 0
        var lastFailure: String?
        let pinned = request.agent
        for _ in pinned == nil ? self.agents.indices : 0..<1 {
            let agent = pinned ?? self.currentAgent
            attempts += 1
            let http = HTTPRequest(
                method: request.method,
                url: agent + request.path + self.queryString(request),
                headers: self.headers(request),
                body: request.body,
                timeout: request.timeout
            )
            do {
                let response =
                    request.ignoringCancellation
                    ? try await self.http.executeIgnoringCancellation(http) : try await self.http.execute(http)
                if response.status == 200 || response.status == 404 { return (response, agent) }
                throw Self.error(request, agent: agent, response: response, attempts: attempts)
            } catch let error as HTTPError where error.code == .closed {
                throw ConsulError(
                    .closed,
                    error.isIOThreadShutDown ? "the client's shared I/O thread was shut down" : "the client is closed",
                    operation: request.operation,
                    subject: request.subject
                )
            } catch let error as HTTPError where error.code == .cancelled {
                throw CancellationError()
            } catch let error as HTTPError where error.isConnectionFailure {
                self.logger.debug(
                    "Consul agent failed; moving to the next",
                    metadata: ["beacon.consul.agent": "\(agent)", "beacon.error": "\(error.code): \(error.message)"]
                )
                lastFailure = "\(error.code): \(error.message)"
                if pinned == nil { self.moveOn(from: agent) }
            }
        }
        throw ConsulError(
            .unavailable,
            "no agent answered (tried \(pinned ?? self.agents.joined(separator: ", "))): \(lastFailure ?? "")",
            operation: request.operation,
            subject: request.subject,
            attempts: attempts
        )
    }

    private func headers(_ request: ConsulRequest) -> [(String, String)] {
        var headers: [(String, String)] = []
        if let token = self.configuration.token { headers.append(("X-Consul-Token", token.secret)) }
        if !request.body.isEmpty { headers.append(("Content-Type", "application/octet-stream")) }
        return headers
    }

    /// `?name=value&flag`, percent-encoded, with the datacenter and (for reads) the consistency mode.
    private func queryString(_ request: ConsulRequest) -> String {
        var items = request.query
        if let datacenter = self.configuration.datacenter { items.append(("dc", datacenter)) }
        if request.isRead, let mode = self.configuration.consistency.parameter { items.append((mode, nil)) }
        guard !items.isEmpty else { return "" }
        return "?"
            + items.map { item in
                item.value.map { "\(item.name)=\(PercentEncoding.queryValue($0))" } ?? item.name
            }.joined(separator: "&")
    }

    /// Turns an error answer (a plain-text body) into a ``ConsulError``.
    static func error(
        _ request: ConsulRequest,
        agent: String,
        response: HTTPResponse,
        attempts: Int
    ) -> ConsulError {
        var message = String(decoding: response.body.prefix(512), as: UTF8.self)
        while message.last?.isWhitespace == true { message.removeLast() }
        if message.isEmpty { message = "HTTP status \(response.status)" }
        let code: ConsulError.Code =
            switch response.status {
            case 403: .permissionDenied
            case 429: .rateLimited
            case 400, 405, 413: .badRequest
            default: .server
            }
        return ConsulError(
            code,
            message,
            operation: request.operation,
            subject: request.subject,
            target: agent,
            status: response.status,
            attempts: attempts
        )
    }
}

/// Percent-encoding of keys in paths and values in query strings (RFC 3986 unreserved characters stay).
enum PercentEncoding {
    /// A key as a URL path: each byte outside `A-Z a-z 0-9 - . _ ~ /` as `%XX`.
    static func path(_ text: String) -> String {
        self.encode(text, keeping: UInt8(ascii: "/"))
    }

    /// A query value: each byte outside `A-Z a-z 0-9 - . _ ~` as `%XX`.
    static func queryValue(_ text: String) -> String {
        self.encode(text, keeping: nil)
    }

    private static func encode(_ text: String, keeping extra: UInt8?) -> String {
        guard text.utf8.contains(where: { !Self.isUnreserved($0) && $0 != extra }) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if Self.isUnreserved(byte) || byte == extra {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether a byte is one of RFC 3986's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
