// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("EnvironmentSource", .timeLimit(.minutes(1)))
struct EnvironmentSourceTests {
    let environment = [
        "DB_MAIN_HOST": "10.0.0.5",
        "DB_MAIN_PORT": "5432",
        "SERVICES_MEMCACHED_CACHE_1": "10.0.0.11:11211",
        "APP_DB_MAIN_HOST": "10.9.9.9",
        "PATH": "/usr/bin",
    ]

    @Test("keys map to upper-case variable names")
    func mapping() async {
        let source = EnvironmentSource(environment: self.environment)
        #expect(source.variableName(forKey: "/db/main/host") == "DB_MAIN_HOST")
        #expect(source.variableName(forKey: "/services/memcached/cache-1") == "SERVICES_MEMCACHED_CACHE_1")
        #expect(await source.get("/db/main/host")?.string == "10.0.0.5")
        #expect(await source.get("/services/memcached/cache-1")?.string == "10.0.0.11:11211")
        #expect(await source.get("/db/replica/host") == nil)
    }

    @Test("a variable prefix namespaces the names")
    func prefix() async {
        let source = EnvironmentSource(environment: self.environment, variablePrefix: "APP_")
        #expect(source.variableName(forKey: "/db/main/host") == "APP_DB_MAIN_HOST")
        #expect(await source.get("/db/main/host")?.string == "10.9.9.9")
        #expect(await source.list(prefix: "/db/").map(\.key) == ["/db/main/host"])
    }

    @Test("list maps names back to keys under the prefix")
    func list() async {
        let source = EnvironmentSource(environment: self.environment)
        let entries = await source.list(prefix: "/db/main/")
        #expect(entries.map(\.key) == ["/db/main/host", "/db/main/port"])
        #expect(entries.map(\.string) == ["10.0.0.5", "5432"])
        #expect(await source.list(prefix: "/services/memcached/").map(\.key) == ["/services/memcached/cache/1"])
    }

    @Test("the process environment is the default")
    func processEnvironment() async {
        #expect(await EnvironmentSource().get("/path") != nil)
    }

    @Test("a watch emits the state once and ends on cancellation")
    func watch() async throws {
        let source = EnvironmentSource(environment: self.environment)
        let watcher = Task {
            var snapshots: [DiscoverySnapshot] = []
            for try await snapshot in source.watch(prefix: "/db/") { snapshots.append(snapshot) }
            return snapshots
        }
        try await Task.sleep(for: .milliseconds(50))
        watcher.cancel()
        let snapshots = try await watcher.value
        #expect(snapshots.count == 1)
        #expect(snapshots.first?.count == 2)
    }
}
