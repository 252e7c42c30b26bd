// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One answer: the status, the body and the app instance that gave it.
struct HTTPAnswer: Sendable {
    var status: Int
    var body: [UInt8]
    /// The `x-instance` header, which beacon-app sets on every answer (and a proxy passes on), if any.
    var instance: String?
}

/// Why a request got no answer.
struct HTTPProbeError: Error, CustomStringConvertible {
    var description: String
}

/// A minimal HTTP/1.1 client over SwiftNIO: one connection per request (`Connection: close`), or one keep-alive
/// connection for many (``withConnection(host:port:_:)``); a deadline for each exchange, the body read whole. Enough
/// for bounded load on loopback; not a general client.
struct HTTPProbe: Sendable {
    let group: any EventLoopGroup
    let timeout: TimeAmount

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeout: Duration) {
        self.group = group
        let (seconds, attoseconds) = timeout.components
        self.timeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Sends one request and reads the answer.
    ///
    /// - Parameters:
    ///   - method: `GET`, `PUT`, `POST`.
    ///   - host: The server's address.
    ///   - port: The server's port.
    ///   - path: The request target.
    ///   - body: The request body, if any.
    /// - Returns: The answer.
    /// - Throws: ``HTTPProbeError`` when the connection fails, is closed before the answer is complete, or the
    ///   deadline passes.
    func send(
        method: HTTPMethod,
        host: String,
        port: Int,
        path: String,
        body: [UInt8]? = nil
    ) async throws
        -> HTTPAnswer
    {
        let channel = try await connect(host: host, port: port)
        // The deadline closes the connection, which ends the exchange below with an error.
        let timedOut = TimedOut()
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.set()
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Connection", value: "close")
                if let body {
                    head.headers.add(name: "Content-Length", value: "\(body.count)")
                }
                try await outbound.write(.head(head))
                if let body {
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                }
                try await outbound.write(.end(nil))
                var parts = inbound.makeAsyncIterator()
                return try await Self.readAnswer(&parts)
            }
        } catch {
            throw Self.failure(error, timedOut: timedOut, timeout: timeout)
        }
    }

    /// Reads one whole answer: its head, its body parts, its end.
    static func readAnswer(
        _ parts: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    ) async throws -> HTTPAnswer {
        var status: Int?
        var instance: String?
        var received: [UInt8] = []
        while let part = try await parts.next(isolation: #isolation) {
            switch part {
            case .head(let responseHead):
                status = Int(responseHead.status.code)
                instance = responseHead.headers.first(name: "x-instance")
            case .body(let buffer):
                received.append(contentsOf: buffer.readableBytesView)
            case .end:
                if let status {
                    return HTTPAnswer(status: status, body: received, instance: instance)
                }
            }
        }
        throw HTTPProbeError(description: "the connection closed before the answer was complete")
    }

    /// The error an exchange reports: the deadline's, or the failure's own, described briefly.
    fileprivate static func failure(_ error: any Error, timedOut: TimedOut, timeout: TimeAmount) -> HTTPProbeError {
        if timedOut.isSet {
            return HTTPProbeError(description: "no answer within \(timeout.nanoseconds / 1_000_000) ms")
        }
        return error as? HTTPProbeError ?? HTTPProbeError(description: describe(error))
    }

    /// Opens a connection with the HTTP/1.1 client handlers.
    ///
    /// - Throws: ``HTTPProbeError`` naming the connect error.
    func connect(host: String, port: Int) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                    }
                }
        } catch {
            throw HTTPProbeError(description: "connect: \(Self.describe(error))")
        }
    }

    /// Opens one keep-alive connection and lends it to a closure, which sends requests one after another on it; the
    /// connection is closed when the closure returns.
    ///
    /// - Parameters:
    ///   - host: The server's address.
    ///   - port: The server's port.
    ///   - body: The work; the connection **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: ``HTTPProbeError`` when the connection cannot be made; what `body` throws.
    func withConnection<Result: Sendable>(
        host: String,
        port: Int,
        _ body: (inout HTTPConnection) async throws -> Result
    ) async throws -> Result {
        let channel = try await connect(host: host, port: port)
        return try await channel.executeThenClose { inbound, outbound in
            var connection = HTTPConnection(
                channel: channel.channel,
                host: "\(host):\(port)",
                timeout: timeout,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound
            )
            return try await body(&connection)
        }
    }

    /// A short description of a NIO error: `Connection refused (errno: 111)` rather than the whole structure.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if let error = error as? IOError {
            return "\(String(cString: strerror(error.errnoCode))) (errno: \(error.errnoCode))"
        }
        return "\(error)"
    }
}

/// Whether the deadline closed the connection.
private final class TimedOut: Sendable {
    private let flag = Mutex(false)

    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}

/// One keep-alive HTTP/1.1 connection, lent by ``HTTPProbe/withConnection(host:port:_:)``: requests go one after
/// another, each answer read whole before the next request is written.
struct HTTPConnection {
    fileprivate let channel: any Channel
    fileprivate let host: String
    fileprivate let timeout: TimeAmount
    fileprivate var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    fileprivate let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    /// Sends one request and reads its answer.
    ///
    /// - Parameters:
    ///   - method: `GET`, `PUT`, `POST`.
    ///   - path: The request target.
    /// - Returns: The answer.
    /// - Throws: ``HTTPProbeError`` when the connection fails or closes before the answer is complete, or the deadline
    ///   passes (which closes the connection: it cannot be used again).
    mutating func send(method: HTTPMethod, path: String) async throws -> HTTPAnswer {
        let timedOut = TimedOut()
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { [channel] in
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
            head.headers.add(name: "Host", value: host)
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            return try await HTTPProbe.readAnswer(&inbound)
        } catch {
            throw HTTPProbe.failure(error, timedOut: timedOut, timeout: timeout)
        }
    }
}
