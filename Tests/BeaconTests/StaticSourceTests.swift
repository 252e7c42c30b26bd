// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("StaticSource", .timeLimit(.minutes(1)))
struct StaticSourceTests {
    @Test("get and list see what was set, with a version per write")
    func getAndList() async {
        let source = StaticSource(["/db/main/endpoint": "127.0.0.1:5432"])
        #expect(await source.get("/db/main/endpoint")?.string == "127.0.0.1:5432")
        #expect(await source.get("/db/missing") == nil)

        let first = source.set("/services/memcached/b", to: "10.0.0.12:11211")
        let second = source.set("/services/memcached/a", to: "10.0.0.11:11211")
        #expect(second.version == first.version + 1)
        let listed = await source.list(prefix: "/services/memcached/")
        #expect(listed.map(\.key) == ["/services/memcached/a", "/services/memcached/b"])
        #expect(await source.list(prefix: "").count == 3)
        #expect(await source.list(prefix: "/nothing/").isEmpty)

        let rewritten = source.set("/services/memcached/a", to: "10.0.0.11:11211")
        #expect(rewritten.version > second.version)

        #expect(source.delete("/services/memcached/a"))
        #expect(!source.delete("/services/memcached/a"))
        #expect(source.delete(prefix: "/services/") == 1)
        #expect(await source.list(prefix: "/services/").isEmpty)
    }

    @Test("a watch starts with the current state and emits after every change under its prefix")
    func watch() async throws {
        let source = StaticSource(["/a/1": "x", "/b/1": "y"])
        var iterator = source.watch(prefix: "/a/").makeAsyncIterator()

        let initial = try #require(try await iterator.next())
        #expect(initial.prefix == "/a/")
        #expect(initial.map(\.string) == ["x"])

        source.set("/b/2", to: "outside the prefix")
        source.set("/a/2", to: "z")
        let afterSet = try #require(try await iterator.next())
        #expect(afterSet.map(\.key) == ["/a/1", "/a/2"])

        source.delete("/a/1")
        let afterDelete = try #require(try await iterator.next())
        #expect(afterDelete.map(\.key) == ["/a/2"])

        source.set(["/a/3": "p", "/a/4": "q"])
        let afterBatch = try #require(try await iterator.next())
        #expect(afterBatch.map(\.key) == ["/a/2", "/a/3", "/a/4"])
    }

    @Test("a watch that waits for a change is woken by it")
    func watchWakesUp() async throws {
        let source = StaticSource()
        let watcher = Task {
            var count = 0
            for try await snapshot in source.watch(prefix: "/svc/") {
                count += 1
                if snapshot.contains(where: { $0.string == "1" }) { break }
            }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        source.set("/svc/a", to: "1")
        #expect(try await watcher.value >= 1)
    }

    @Test("several watches of one prefix each get every change")
    func severalWatches() async throws {
        let source = StaticSource()
        var first = source.watch(prefix: "/k").makeAsyncIterator()
        var second = source.watch(prefix: "/k").makeAsyncIterator()
        _ = try await first.next()
        _ = try await second.next()
        source.set("/k", to: "v")
        #expect(try await first.next()?.first?.string == "v")
        #expect(try await second.next()?.first?.string == "v")
    }

    @Test("cancelling the iterating task ends the watch")
    func cancellation() async throws {
        let source = StaticSource(["/a": "1"])
        let watcher = Task {
            var count = 0
            for try await _ in source.watch(prefix: "/") { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        watcher.cancel()
        #expect(try await watcher.value == 1)
    }

    @Test("as a registry, an instance is listed until its registration is cancelled")
    func registry() async throws {
        let source = StaticSource()
        let instance = ServiceInstance(service: "web", id: "web-1", endpoint: Endpoint(host: "10.0.0.5", port: 8080))
        let registration = try await source.register(instance, ttl: .seconds(10))
        #expect(try await source.instances(of: "web") == [instance])
        #expect(await source.get("/services/web/web-1") != nil)
        await registration.cancel()
        #expect(registration.isCancelled)
        await registration.cancel()
        #expect(try await source.instances(of: "web").isEmpty)

        let result = try await source.withRegistration(instance, ttl: .seconds(10)) { _ in
            try await source.instances(of: "web").count
        }
        #expect(result == 1)
        #expect(try await source.instances(of: "web").isEmpty)

        let bad = ServiceInstance(service: "web", id: "a/b", endpoint: Endpoint(host: "h", port: 1))
        await #expect(throws: BeaconError.self) { try await source.register(bad, ttl: .seconds(1)) }
    }
}
