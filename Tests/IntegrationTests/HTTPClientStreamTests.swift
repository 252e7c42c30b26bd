// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Testing

/// ``HTTPClient/stream(_:)`` against etcd's watch stream.
@Suite("HTTPClient streams", .requiresServers, .timeLimit(.minutes(1)))
struct HTTPClientStreamTests {
    /// Waits until the client runs `count` transfers, for at most 5 seconds.
    static func waitForRunningTransfers(_ client: HTTPClient, _ count: Int) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while client.runningTransferCount != count {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    @Test("a watch stream delivers the created message, then the events of puts made meanwhile")
    func watch() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("watch")
        let stream = try await client.stream(EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix)))
        #expect(stream.status == 200)
        #expect(stream.header("Content-Type") == "application/json")

        var reader = WatchReader(stream)
        let created = try #require(try await reader.next())
        #expect(created["created"] as? Bool == true)

        let keys = (0..<5).map { "\(prefix)key-\($0)" }
        for key in keys {
            try await EtcdGateway.put(client, key: key, value: "value of \(key)")
        }
        #expect(try await reader.keys(count: 5) == keys)
    }

    @Test("a finite body streams to its end")
    func finiteBody() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let stream = try await client.stream(HTTPRequest(url: try EtcdGateway.endpoint() + "/version"))
        #expect(stream.status == 200)
        var body: [UInt8] = []
        for try await chunk in stream {
            #expect(!chunk.isEmpty)
            body += chunk
        }
        #expect(try EtcdGateway.object(body)["etcdserver"] != nil)
    }

    @Test("cancelling the iterating task ends the stream promptly; the client keeps working")
    func cancellation() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("stream-cancel")
        let stream = try await client.stream(EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix)))
        let reading = Task {
            var reader = WatchReader(stream)
            while try await reader.next() != nil {}
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(client.runningTransferCount == 1)

        reading.cancel()
        await #expect(throws: CancellationError.self) { try await reading.value }
        #expect(try await Self.waitForRunningTransfers(client, 0))

        // The client still serves requests and new streams.
        let response = try await client.execute(HTTPRequest(url: try EtcdGateway.endpoint() + "/version"))
        #expect(response.status == 200)
        var reader = WatchReader(
            try await client.stream(EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix)))
        )
        #expect(try await reader.next()?["created"] as? Bool == true)
    }

    @Test("dropping a stream without reading it to the end aborts the transfer")
    func drop() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("stream-drop")
        do {
            let stream = try await client.stream(
                EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix))
            )
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next() != nil)
            #expect(client.runningTransferCount == 1)
        }
        #expect(try await Self.waitForRunningTransfers(client, 0))
    }

    @Test("a slow consumer loses nothing: the transfer pauses while the buffer is full")
    func backpressure() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.streamBufferLimit = 2048
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("backpressure")
        let stream = try await client.stream(EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix)))
        var reader = WatchReader(stream)
        #expect(try await reader.next()?["created"] as? Bool == true)

        // 300 events of about 500 bytes arrive while nobody reads: far more than the 2 KiB buffer.
        let keys = (0..<300).map { "\(prefix)key-\($0)" }
        let value = String(repeating: "v", count: 300)
        for key in keys {
            try await EtcdGateway.put(client, key: key, value: value)
        }
        #expect(try await reader.keys(count: 300) == keys)
    }

    @Test("a silent stream fails with timedOut after its idle timeout")
    func idleTimeout() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("idle")
        var request = try EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix))
        request.idleTimeout = .milliseconds(500)
        let stream = try await client.stream(request)
        let error = await #expect(throws: HTTPError.self) {
            var reader = WatchReader(stream)
            while try await reader.next() != nil {}
        }
        #expect(error?.code == .timedOut)
    }

    @Test("a stream with unread bytes for a slow consumer is not idle")
    func pausedIsNotIdle() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.streamBufferLimit = 1024
        // Long enough that the puts below reach the stream in time even while other suites load the same etcd (and
        // longer under a sanitizer, where a put can take seconds).
        let idleTimeout = TestServers.scaled(.seconds(2))
        configuration.streamIdleTimeout = idleTimeout
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("paused-idle")
        let stream = try await client.stream(EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix)))
        var reader = WatchReader(stream)
        #expect(try await reader.next()?["created"] as? Bool == true)
        let keys = (0..<20).map { "\(prefix)key-\($0)" }
        for key in keys {
            try await EtcdGateway.put(client, key: key, value: String(repeating: "v", count: 300))
        }
        // Far longer than the idle timeout without reading: the stream is paused (full buffer), not idle.
        try await Task.sleep(for: idleTimeout * 3)
        #expect(try await reader.keys(count: 20) == keys)
    }

    @Test("a stream that cannot connect throws from stream()")
    func connectFailure() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let error = await #expect(throws: HTTPError.self) {
            try await client.stream(HTTPRequest(method: "POST", url: "http://127.0.0.1:1/v3/watch", body: [1]))
        }
        #expect(error?.code == .connectFailed)
    }
}
