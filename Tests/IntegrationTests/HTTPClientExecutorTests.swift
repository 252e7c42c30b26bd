// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Synchronization
import Testing

/// ``HTTPClient/taskExecutor``: code that prefers the client's I/O thread, against etcd's JSON gateway.
@Suite("HTTPClient task executor", .requiresServers, .timeLimit(.minutes(1)))
struct HTTPClientExecutorTests {
    @Test("code that prefers the executor runs on the I/O thread, before and after its requests")
    func runsOnIOThread() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        #expect(!client.isOnIOThread)
        try await withTaskExecutorPreference(client.taskExecutor) { () async throws in
            #expect(client.isOnIOThread)
            for _ in 0..<20 {
                #expect(try await client.execute(request).status == 200)
                #expect(client.isOnIOThread)
            }
        }
        #expect(!client.isOnIOThread)
    }

    @Test("200 requests from 20 tasks on the executor all succeed")
    func concurrentRequests() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("executor-concurrent")
        try await withThrowingTaskGroup { group in
            for task in 0..<20 {
                group.addTask(executorPreference: client.taskExecutor) {
                    for request in 0..<10 {
                        try await EtcdGateway.put(client, key: "\(prefix)\(task)-\(request)", value: "\(request)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await EtcdGateway.count(client, prefix: prefix) == "200")
    }

    @Test("a watch stream read on the executor delivers the events of puts made from it")
    func stream() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let prefix = EtcdGateway.uniquePrefix("executor-watch")
        let keys = try await withTaskExecutorPreference(client.taskExecutor) {
            let watch = try EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix))
            var reader = WatchReader(try await client.stream(watch))
            _ = try #require(try await reader.next())  // created
            for index in 0..<5 {
                try await EtcdGateway.put(client, key: "\(prefix)key-\(index)", value: "\(index)")
            }
            return try await reader.keys(count: 5)
        }
        #expect(keys == (0..<5).map { "\(prefix)key-\($0)" })
    }

    @Test("a task that keeps yielding on the executor does not hold up the client's transfers")
    func yieldingTaskDoesNotStarve() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let stop = Atomic<Bool>(false)
        let spinner = Task(executorPreference: client.taskExecutor) {
            var turns = 0
            while !stop.load(ordering: .relaxed) {
                turns += 1
                await Task.yield()
            }
            return turns
        }
        for _ in 0..<20 {
            #expect(try await client.execute(request).status == 200)
        }
        let onExecutor = Task(executorPreference: client.taskExecutor) { try await client.execute(request).status }
        #expect(try await onExecutor.value == 200)
        stop.store(true, ordering: .relaxed)
        #expect(await spinner.value > 0)
    }

    @Test("cancelling a task on the executor aborts its request promptly")
    func cancellation() async throws {
        let client = HTTPClient()
        defer { client.close() }
        let watch = try EtcdGateway.post(
            "/v3/watch",
            json: EtcdGateway.watchBody(prefix: EtcdGateway.uniquePrefix("executor-cancel")),
            timeout: .seconds(30)
        )
        let task = Task(executorPreference: client.taskExecutor) { try await client.execute(watch) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("after close, tasks that prefer the executor still run, and their requests throw .closed")
    func afterClose() async throws {
        let client = HTTPClient()
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let watch = try EtcdGateway.post(
            "/v3/watch",
            json: EtcdGateway.watchBody(prefix: EtcdGateway.uniquePrefix("executor-close"))
        )
        let pending = Task(executorPreference: client.taskExecutor) {
            // Resumed by close(), on the I/O thread's last turn or on the global executor after it.
            let error = await #expect(throws: HTTPError.self) { try await client.execute(watch) }
            return error?.code
        }
        try await Task.sleep(for: .milliseconds(200))
        client.close()
        #expect(await pending.value == .closed)

        let later = Task(executorPreference: client.taskExecutor) {
            let onIOThread = client.isOnIOThread
            let error = await #expect(throws: HTTPError.self) { try await client.execute(request) }
            return (onIOThread, error?.code)
        }
        let (onIOThread, code) = await later.value
        #expect(!onIOThread)
        #expect(code == .closed)
    }

    @Test("closing the client from a task on its executor does not deadlock")
    func closeFromExecutor() async throws {
        let client = HTTPClient()
        let request = HTTPRequest(url: try EtcdGateway.endpoint() + "/version")
        let status = try await withTaskExecutorPreference(client.taskExecutor) {
            let status = try await client.execute(request).status
            client.close()
            return status
        }
        #expect(status == 200)
        let error = await #expect(throws: HTTPError.self) { try await client.execute(request) }
        #expect(error?.code == .closed)
    }
}
