// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Testing

/// ``HTTPClient/execute(_:)`` against etcd's JSON gateway.
@Suite("HTTPClient requests", .requiresServers, .timeLimit(.minutes(1)))
struct HTTPClientTests {
    @Test("GET /version returns etcd's version as JSON")
    func version() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let response = try await client.execute(HTTPRequest(url: try EtcdGateway.endpoint() + "/version"))
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let version = try #require(try EtcdGateway.object(response.body)["etcdserver"] as? String)
        #expect(version.hasPrefix("3."))
    }

    @Test("a key put with POST /v3/kv/put reads back with /v3/kv/range")
    func putAndRange() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let key = EtcdGateway.uniquePrefix("put") + "key"
        try await EtcdGateway.put(client, key: key, value: "127.0.0.1:8001")

        let range = try await client.execute(
            EtcdGateway.post("/v3/kv/range", json: #"{"key":"\#(EtcdGateway.base64(key))"}"#)
        )
        #expect(range.status == 200)
        let kvs = try #require(try EtcdGateway.object(range.body)["kvs"] as? [[String: Any]])
        #expect(kvs.count == 1)
        let value = try #require(kvs.first?["value"] as? String)
        #expect(EtcdGateway.decode(value) == "127.0.0.1:8001")
    }

    @Test("an HTTP error status is a response, not a thrown error")
    func errorStatus() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let response = try await client.execute(EtcdGateway.post("/v3/kv/put", json: "{}"))
        #expect(response.status == 400)
        #expect(try EtcdGateway.object(response.body)["message"] as? String == "etcdserver: key is not provided")
    }

    @Test("a refused connection throws connectFailed, naming the URL without its query")
    func connectionRefused() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let error = try await #require(throws: HTTPError.self) {
            try await client.execute(
                HTTPRequest(method: "POST", url: "http://user:secret@127.0.0.1:1/v3/kv/range?token=x", body: [1])
            )
        }
        #expect(error.code == .connectFailed)
        #expect(error.curlCodeName == "CURLE_COULDNT_CONNECT")
        #expect(error.target == "http://127.0.0.1:1/v3/kv/range")
        #expect(
            error.description.hasPrefix(
                "connect to http://127.0.0.1:1/v3/kv/range failed: Couldn't connect to server (CURLE_COULDNT_CONNECT)"
            )
        )
        #expect(!error.description.contains("secret") && !error.description.contains("token"))
    }

    @Test("a request that outlives its timeout throws timedOut")
    func requestTimeout() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("timeout")
        // A watch never ends by itself: through execute() it can only time out.
        let error = try await #require(throws: HTTPError.self) {
            try await client.execute(
                EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix), timeout: .milliseconds(200))
            )
        }
        #expect(error.code == .timedOut)
    }

    @Test("a header with a line break is refused before anything is sent")
    func headerInjection() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let error = try await #require(throws: HTTPError.self) {
            try await client.execute(
                HTTPRequest(url: try EtcdGateway.endpoint() + "/version", headers: [("X-Test", "a\r\nHost: evil")])
            )
        }
        #expect(error.code == .invalidRequest)
    }

    @Test("sequential requests reuse one kept-alive connection")
    func connectionReuse() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        var responses: [HTTPResponse] = []
        for _ in 0..<5 {
            responses.append(try await client.execute(request))
        }
        #expect(!responses[0].reusedConnection)
        let laterReused = responses.dropFirst().allSatisfy { $0.reusedConnection }
        #expect(laterReused)
        #expect(Set(responses.map(\.localPort)).count == 1)
        #expect(responses[0].localPort != 0)
    }

    @Test("a reused handle keeps nothing of its previous request: method, body, headers")
    func handleReuseCarriesNothingOver() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let endpoint = try EtcdGateway.endpoint()
        let key = EtcdGateway.uniquePrefix("reuse") + "k"
        let version = HTTPRequest(url: endpoint + "/version")
        var statuses: [Int] = []
        statuses.append(
            try await client.execute(EtcdGateway.post("/v3/kv/put", json: EtcdGateway.putBody(key: key, value: "v")))
                .status
        )
        statuses.append(try await client.execute(version).status)  // a POST left behind would be refused (405)
        statuses.append(try await client.execute(HTTPRequest(method: "DELETE", url: endpoint + "/version")).status)
        statuses.append(try await client.execute(version).status)  // so would a DELETE
        let range = try await client.execute(
            EtcdGateway.post("/v3/kv/range", json: #"{"key":"\#(EtcdGateway.base64(key))"}"#)
        )
        #expect(statuses == [200, 200, 405, 200])
        let kvs = try #require(try EtcdGateway.object(range.body)["kvs"] as? [[String: Any]])
        #expect(kvs.first?["value"] as? String == EtcdGateway.base64("v"))
        let plain = try await client.execute(version)
        #expect(plain.reusedConnection)
    }

    @Test("many tasks share the client: 200 requests from 20 tasks all succeed")
    func concurrentRequests() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("concurrent")
        try await withThrowingTaskGroup { group in
            for task in 0..<20 {
                group.addTask {
                    for request in 0..<10 {
                        let key = "\(prefix)\(task)-\(request)"
                        try await EtcdGateway.put(client, key: key, value: "\(task * 10 + request)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await EtcdGateway.count(client, prefix: prefix) == "200")
    }

    @Test("maxConnectionsPerHost bounds the connections: 60 concurrent requests over at most 2")
    func connectionLimit() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerHost = 2
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let ports = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<60 {
                group.addTask { try await client.execute(request).localPort }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(ports.count <= 2)
    }

    @Test("requests refused before they start give their connection slot back")
    func failedStartFreesSlot() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerHost = 1
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let url = try EtcdGateway.endpoint() + "/version"
        for _ in 0..<3 {
            await #expect(throws: HTTPError.self) {
                try await client.execute(HTTPRequest(url: url, headers: [("X-Bad", "a\nb")]))
            }
        }
        #expect(try await client.execute(HTTPRequest(url: url)).status == 200)
    }

    @Test("TLS settings reach libcurl: https to a plain HTTP port fails with .tls")
    func tlsFailure() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.tls.serverName = "etcd.example"
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let url = try EtcdGateway.endpoint().replacingOccurrences(of: "http://", with: "https://") + "/version"
        let error = await #expect(throws: HTTPError.self) { try await client.execute(HTTPRequest(url: url)) }
        #expect(error?.code == .tls)
        #expect(error?.target == url)
    }

    @Test("cancelling the awaiting task aborts a request promptly and the client keeps working")
    func cancellation() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let watch = try EtcdGateway.post(
            "/v3/watch",
            json: EtcdGateway.watchBody(prefix: EtcdGateway.uniquePrefix("cancel")),
            timeout: .seconds(30)
        )
        let task = Task { try await client.execute(watch) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }

        let response = try await client.execute(HTTPRequest(url: try EtcdGateway.endpoint() + "/version"))
        #expect(response.status == 200)
    }

    @Test("a request waiting for a connection slot can be cancelled; the slot then serves the next")
    func cancelQueued() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerHost = 1
        let client = HTTPClient(configuration: configuration)
        defer { client.close() }
        let watch = try EtcdGateway.post(
            "/v3/watch",
            json: EtcdGateway.watchBody(prefix: EtcdGateway.uniquePrefix("queued")),
            timeout: .seconds(30)
        )
        let version = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let holder = Task { try await client.execute(watch) }  // holds the only slot
        try await Task.sleep(for: .milliseconds(100))
        let queued = Task { try await client.execute(version) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(client.runningTransferCount == 1)

        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        holder.cancel()
        await #expect(throws: CancellationError.self) { try await holder.value }
        #expect(try await client.execute(version).status == 200)
    }

    @Test("a task cancelled before it calls execute() throws CancellationError without sending")
    func cancelledBeforeSubmission() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let task = Task {
            while !Task.isCancelled {
                await Task.yield()
            }
            return try await client.execute(request)
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("close fails pending requests and streams with .closed, and later requests too")
    func close() async throws {
        let client = HTTPClient()
        let prefix = EtcdGateway.uniquePrefix("close")
        let watch = try EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix))
        let stream = try await client.stream(watch)
        let reading = Task {
            var reader = WatchReader(stream)
            while try await reader.next() != nil {}
        }
        let pending = Task { try await client.execute(watch) }
        try await Task.sleep(for: .milliseconds(200))

        client.close()
        let requestError = await #expect(throws: HTTPError.self) { try await pending.value }
        #expect(requestError?.code == .closed)
        let streamError = await #expect(throws: HTTPError.self) { try await reading.value }
        #expect(streamError?.code == .closed)
        let laterError = await #expect(throws: HTTPError.self) {
            try await client.execute(HTTPRequest(url: try EtcdGateway.endpoint() + "/version"))
        }
        #expect(laterError?.code == .closed)
        client.close()  // idempotent
    }
}
