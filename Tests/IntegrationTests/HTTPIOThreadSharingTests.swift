// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
import Foundation
import Testing

@testable import BeaconConsul
@testable import BeaconEtcd

/// etcd and Consul clients sharing one ``HTTPIOThread``, against the plain etcd and the fake Consul agent of
/// `scripts/servers`.
@Suite("Clients sharing an HTTPIOThread", .requiresServers, .timeLimit(.minutes(2)))
struct HTTPIOThreadSharingTests {
    /// An etcd client on `ioThread`.
    static func etcd(on ioThread: HTTPIOThread) throws -> EtcdClient {
        var configuration = EtcdClient.Configuration(endpoints: [try TestServers.value("BEACON_ETCD_ENDPOINT")])
        configuration.ioThread = ioThread
        return try EtcdClient(configuration: configuration)
    }

    /// A Consul client on `ioThread`, against the fake agent.
    static func consul(on ioThread: HTTPIOThread) throws -> ConsulClient {
        try ConsulClient(
            configuration: .init(
                agents: [try TestServers.value("BEACON_CONSUL_ENDPOINT")],
                watchWait: .seconds(5),
                ioThread: ioThread
            )
        )
    }

    @Test("two etcd clients and a Consul client do requests and watches on one thread")
    func requestsAndWatches() async throws {
        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }
        let first = try Self.etcd(on: ioThread)
        defer { first.close() }
        let second = try Self.etcd(on: ioThread)
        defer { second.close() }
        let consul = try Self.consul(on: ioThread)
        defer { consul.close() }
        #expect(ioThread.runningThreadCount == 1)
        let prefix = TestServers.uniquePrefix("shared-io")

        // A watch on each etcd client and on the Consul client, fed by writes through the others.
        var firstWatch = first.watch(prefix: prefix).makeAsyncIterator()
        var secondWatch = second.watch(prefix: prefix).makeAsyncIterator()
        var consulWatch = consul.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await firstWatch.next()?.isEmpty == true)
        #expect(try await secondWatch.next()?.isEmpty == true)
        #expect(try await consulWatch.next()?.isEmpty == true)
        try await first.put("\(prefix)a", "1")
        try await second.put("\(prefix)b", "2")
        try await consul.put("\(prefix)c", "3")
        for watch in [firstWatch, secondWatch] {
            var watch = watch
            var keys: [String] = []
            while keys.count < 2 { keys = try #require(try await watch.next()).map(\.key) }
            #expect(keys == ["\(prefix)a", "\(prefix)b"])
        }
        #expect(try #require(try await consulWatch.next()).map(\.key) == ["\(prefix)c"])
        #expect(try await second.get("\(prefix)a")?.string == "1")
        #expect(try await consul.get("\(prefix)c")?.string == "3")

        // Code that prefers one client's executor runs on the thread of all three.
        try await withTaskExecutorPreference(second.taskExecutor) { () async throws in
            #expect(first.transport.http.isOnIOThread && consul.transport.http.isOnIOThread)
            #expect(try await first.get("\(prefix)b")?.string == "2")
        }
        #expect(try await first.delete(prefix: prefix) == 2)
        try await consul.delete(prefix: prefix)
        #expect(ioThread.runningThreadCount == 1)
    }

    @Test("four etcd clients on one thread: 800 concurrent requests, some from tasks on the thread, all succeed")
    func concurrentRequests() async throws {
        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }
        let clients = try (0..<4).map { _ in try Self.etcd(on: ioThread) }
        defer { for client in clients { client.close() } }
        let prefix = TestServers.uniquePrefix("shared-io-load")
        try await clients[0].put("\(prefix)key", "value")
        let values = try await withThrowingTaskGroup(of: [String?].self) { group in
            for (index, client) in clients.enumerated() {
                for task in 0..<20 {
                    // A quarter of the tasks prefer the thread (through another client's executor: the same thread).
                    let executor: (any TaskExecutor)? =
                        task % 4 == 0 ? clients[(index + 1) % clients.count].taskExecutor : nil
                    group.addTask(executorPreference: executor) {
                        var values: [String?] = []
                        for _ in 0..<10 { values.append(try await client.get("\(prefix)key")?.string) }
                        return values
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(values.count == 800 && values.allSatisfy { $0 == "value" })
        #expect(try await clients[3].delete(prefix: prefix) == 1)
    }

    @Test("closing one client leaves the thread to the others")
    func closingOneClient() async throws {
        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }
        let closed = try Self.etcd(on: ioThread)
        let staying = try Self.etcd(on: ioThread)
        defer { staying.close() }
        let consul = try Self.consul(on: ioThread)
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("shared-io-close")
        var watch = staying.watch(prefix: prefix).makeAsyncIterator()
        #expect(try await watch.next()?.isEmpty == true)

        closed.close()
        let error = await #expect(throws: EtcdError.self) { try await closed.get("\(prefix)a") }
        #expect(error?.code == .closed && error?.message == "the client is closed")
        #expect(ioThread.runningThreadCount == 1)
        try await staying.put("\(prefix)a", "1")
        #expect(try #require(try await watch.next()).map(\.key) == ["\(prefix)a"])
        try await consul.put("\(prefix)a", "2")
        #expect(try await consul.get("\(prefix)a")?.string == "2")
        #expect(try await staying.delete(prefix: prefix) == 1)
        try await consul.delete(prefix: prefix)
    }

    @Test("shutting the thread down ends every client's requests and watches with closed")
    func shutdownEndsEverything() async throws {
        let ioThread = HTTPIOThread()
        let etcd = try Self.etcd(on: ioThread)
        defer { etcd.close() }
        let consul = try Self.consul(on: ioThread)
        defer { consul.close() }
        let prefix = TestServers.uniquePrefix("shared-io-shutdown")
        let (watching, watchingContinuation) = AsyncStream.makeStream(of: Void.self)
        // Both watches wait in the thread (an etcd stream, a Consul blocking query) when it shuts down.
        let errors = try await withThrowingTaskGroup(of: (any Error)?.self) { group in
            for watch in [etcd.watch(prefix: prefix), consul.watch(prefix: prefix)] {
                group.addTask { () async throws -> (any Error)? in
                    var iterator = watch.makeAsyncIterator()
                    #expect(try await iterator.next()?.isEmpty == true)
                    watchingContinuation.yield()
                    do {
                        _ = try await iterator.next()
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var started = 0
            for await _ in watching {
                started += 1
                if started == 2 { break }
            }
            try await Task.sleep(for: .milliseconds(200))
            ioThread.shutdown()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let message = "the client's shared I/O thread was shut down"
        #expect(errors.count == 2)
        for error in errors {
            switch error {
            case let error as EtcdError: #expect(error.code == .closed && error.message == message)
            case let error as ConsulError: #expect(error.code == .closed && error.message == message)
            default: Issue.record("the watch ended with \(String(describing: error)), not the client's closed error")
            }
        }
        #expect(ioThread.runningThreadCount == 0)

        let error = await #expect(throws: EtcdError.self) { try await etcd.get("\(prefix)a") }
        #expect(error?.code == .closed)
        let consulError = await #expect(throws: ConsulError.self) { try await consul.get("\(prefix)a") }
        #expect(consulError?.code == .closed)
        // A client made afterwards is closed from the start.
        let late = try Self.etcd(on: ioThread)
        defer { late.close() }
        let lateError = await #expect(throws: EtcdError.self) { try await late.get("\(prefix)a") }
        #expect(lateError?.code == .closed)
    }

    @Test("clients released without close() stop their private threads, or leave the shared one")
    func releasedWithoutClose() async throws {
        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }
        weak var privateEtcd: HTTPClient?
        weak var privateConsul: HTTPClient?
        weak var sharedEtcd: HTTPClient?
        let prefix = TestServers.uniquePrefix("shared-io-release")
        do {
            let endpoint = try TestServers.value("BEACON_ETCD_ENDPOINT")
            let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]))
            let agent = try TestServers.value("BEACON_CONSUL_ENDPOINT")
            let consul = try ConsulClient(configuration: .init(agents: [agent]))
            let shared = try Self.etcd(on: ioThread)
            privateEtcd = etcd.transport.http
            privateConsul = consul.transport.http
            sharedEtcd = shared.transport.http
            // A request and a watch each, so that every client has had connections and a stream.
            var watch = etcd.watch(prefix: prefix).makeAsyncIterator()
            let first = try await watch.next()
            let missing = try await shared.get("\(prefix)missing")
            let consulMissing = try await consul.get("\(prefix)missing")
            #expect(first?.isEmpty == true && missing == nil && consulMissing == nil)
        }
        // Released: each HTTPClient's deinit closed it, which joined its private thread or left the shared one.
        #expect(privateEtcd == nil && privateConsul == nil && sharedEtcd == nil)
        #expect(ioThread.runningThreadCount == 1)
    }
}
