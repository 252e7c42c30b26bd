// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
public import Logging

/// A client of Consul's HTTP API (over libcurl), usable as a discovery source (the KV store) and a service registry
/// (the catalog, through the local agent).
///
/// ```swift
/// let consul = try ConsulClient(configuration: .init(agents: ["http://127.0.0.1:8500"]), logger: logger)
/// try await consul.put("/db/main/endpoint", "10.0.0.5:5432")
/// let endpoint = try await consul.require("/db/main/endpoint").endpoint()
/// consul.close()
/// ```
///
/// Beacon keys start with `/` and Consul's keys do not: the client removes the leading `/` going out and adds it back
/// coming in, so `/db/main` is Consul's `db/main`. Entries' versions are Consul's `ModifyIndex`. Watches are blocking
/// queries (`?index=` with `?wait=`), which follow Consul's documented index rules.
///
/// Services live in Consul's catalog, not in the KV store: ``instances(of:)`` reads the instances whose checks pass
/// (`/v1/health/service/<name>?passing`), ``watchInstances(of:)`` follows them, and ``register(_:ttl:)`` registers an
/// agent service with a TTL check that ``run()`` passes every third of the TTL.
///
/// All I/O runs on one I/O thread (libcurl's multi interface): the client's own, which `init` starts and ``close()``
/// stops, or an `HTTPIOThread` shared with other clients (``Configuration/ioThread``). No call blocks the Swift
/// concurrency pool. A client that is never closed stops its own thread when it is released. The ACL token travels
/// in the `X-Consul-Token` header only, never in a URL, a log line or an error.
///
/// This client was written from Consul's documented HTTP API and tested against a fake agent that follows that
/// documentation, not against a real Consul agent.
public final class ConsulClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: Configuration
    let transport: ConsulTransport
    let logger: Logger
    /// Whether ``run()`` started, and the registrations it keeps passing.
    let lifecycle = KeepAliveLifecycle()

    /// Creates a client. No connection is made until the first request.
    ///
    /// - Parameters:
    ///   - configuration: Agents, token, datacenter, consistency, TLS and timeouts.
    ///   - logger: Where agent changes, re-registrations and watch restarts are logged (debug and info).
    /// - Throws: ``ConsulError`` with code ``ConsulError/Code/invalidConfiguration`` when no agent is given or an
    ///   agent is not an `http://` or `https://` URL, or has user information, a query or a fragment (shown masked in
    ///   the error).
    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "beacon.consul", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(ConsulError) {
        self.configuration = configuration
        self.logger = logger
        self.transport = try ConsulTransport(configuration: configuration, logger: logger)
    }

    /// Closes the client now: aborts every request in progress, stops its private I/O thread (or takes the client off
    /// its shared ``Configuration/ioThread``, which keeps running), and ends ``run()`` if it runs.
    ///
    /// Pending requests and watches throw ``ConsulError`` with code ``ConsulError/Code/closed``, and so do later calls.
    /// Registrations stop passing their checks without being deregistered, so the agent marks them critical after their
    /// TTL and removes them after ``Configuration/deregisterCriticalServiceAfter``; to deregister them at once, end
    /// ``run()`` instead. Synchronous and idempotent.
    public func close() {
        for keeper in self.lifecycle.finish() { keeper.requestStop() }
        self.transport.close()
    }

    /// The agent requests go to now.
    public var currentAgent: String { self.transport.currentAgent }

    /// The client's I/O thread as a task executor, for code that calls Consul in a tight loop.
    ///
    /// Code run with this preference runs on the thread that waits for the client's answers, so an answer resumes it
    /// at once instead of handing it to another thread (Documentation/Consul.md has the figures):
    ///
    /// ```swift
    /// let endpoints = try await withTaskExecutorPreference(consul.taskExecutor) {
    ///     var endpoints: [Endpoint] = []
    ///     for key in keys {
    ///         if let entry = try await consul.get(key) { endpoints.append(try entry.endpoint()) }
    ///     }
    ///     return endpoints
    /// }
    /// ```
    ///
    /// While such code runs, none of the client's requests progress (blocking queries and check passes included), nor
    /// those of the other clients sharing its ``Configuration/ioThread``: keep it short, and never block in it. Once
    /// the thread has exited (after ``close()``, or after `HTTPIOThread.shutdown()` for a shared thread), code that
    /// prefers this executor runs on the global concurrent executor.
    public var taskExecutor: any TaskExecutor { self.transport.http.taskExecutor }

    // MARK: Key mapping

    /// Consul's key for a Beacon key: without its leading `/`.
    static func consulKey(_ key: String) -> String {
        key.utf8.first == UInt8(ascii: "/") ? String(Substring(key.utf8.dropFirst())) : key
    }

    /// The Beacon key for one of Consul's: with a leading `/`.
    static func beaconKey(_ key: String) -> String {
        "/" + key
    }

    /// Checks a key before it is sent: Consul refuses empty keys, `..` segments and surrounding spaces.
    static func validate(_ key: String, operation: String) throws(ConsulError) -> String {
        let consulKey = Self.consulKey(key)
        let problem: String? =
            if consulKey.isEmpty {
                "the key is empty (Consul's keys are the Beacon key without its leading '/')"
            } else if Self.hasParentSegment(consulKey) {
                "a key may not hold a '..' segment"
            } else if consulKey.utf8.first == UInt8(ascii: " ") || consulKey.utf8.last == UInt8(ascii: " ") {
                "a key may not start or end with a space"
            } else {
                nil
            }
        if let problem { throw ConsulError(.invalidKey, problem, operation: operation, subject: key) }
        return consulKey
    }

    /// Whether a `/`-separated key has a `..` segment.
    private static func hasParentSegment(_ key: String) -> Bool {
        var segmentLength = 0
        var segmentIsDots = true
        for byte in key.utf8 {
            if byte == UInt8(ascii: "/") {
                if segmentIsDots && segmentLength == 2 { return true }
                segmentLength = 0
                segmentIsDots = true
            } else {
                segmentLength += 1
                segmentIsDots = segmentIsDots && byte == UInt8(ascii: ".")
            }
        }
        return segmentIsDots && segmentLength == 2
    }

    // MARK: Responses

    /// Decodes a KV answer (always an array of entries) into Beacon entries, leaving out folder markers (keys ending
    /// in `/`, as Consul's UI creates them).
    ///
    /// Pulled from the bytes without a JSON tree: a `get` decodes one on every call.
    static func entries(
        _ body: [UInt8],
        operation: String,
        subject: String,
        agent: String
    ) throws(ConsulError)
        -> [KeyValue]
    {
        do {
            return try JSONReader.read(body) { reader throws(JSONError) in
                var entries: [KeyValue] = []
                try reader.readArray("entries") { reader throws(JSONError) in
                    if let entry = try Self.entry(&reader) { entries.append(entry) }
                }
                return entries
            }
        } catch {
            throw ConsulError(
                .invalidResponse,
                "the answer is not Consul's KV JSON: \(error)",
                operation: operation,
                subject: subject,
                target: agent
            )
        }
    }

    /// Decodes one entry of a KV answer (the first of a member named twice counts); `nil` for a folder marker.
    private static func entry(_ reader: inout JSONReader) throws(JSONError) -> KeyValue? {
        var key: String?
        var value: [UInt8]?
        var index: Int64?
        try reader.readObject("entry") { name, reader throws(JSONError) in
            switch name {
            case "Key" where key == nil: key = try reader.readString("Key")
            case "Value" where value == nil: value = reader.readNull() ? [] : try reader.readBase64("Value")
            case "ModifyIndex" where index == nil: index = reader.readNull() ? 0 : try reader.readInt64("ModifyIndex")
            default: try reader.skipValue()
            }
        }
        guard let key else { throw JSONError(message: "field Key is not a string") }
        if key.utf8.last == UInt8(ascii: "/") { return nil }
        return KeyValue(key: Self.beaconKey(key), value: value ?? [], version: UInt64(max(index ?? 0, 0)))
    }

    /// Reads a `true`/`false` answer (writes, deletes, compare-and-swap).
    static func boolean(_ body: [UInt8], operation: String, subject: String, agent: String) throws(ConsulError) -> Bool
    {
        switch String(decoding: body, as: UTF8.self).trimmingWhitespace {
        case "true": return true
        case "false": return false
        default:
            throw ConsulError(
                .invalidResponse,
                "expected true or false",
                operation: operation,
                subject: subject,
                target: agent
            )
        }
    }
}

extension String {
    /// The text without leading and trailing whitespace.
    var trimmingWhitespace: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
