// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConfiguration
import BeaconLocks
import BeaconTesting
import Configuration
import ConfigurationTesting
import InMemoryLogging
import Logging
import ServiceRunChecks
import Testing

/// The bytes swift-configuration's compatibility test expects (`magic`, `magic2`).
private let magic: [UInt8] = Array("magic".utf8)
private let magic2: [UInt8] = Array("magic2".utf8)

/// The data set of swift-configuration's `ProviderCompatTest`, as discovery holds it under `/config/`.
private let compatValues: [String: String] = [
    "/config/string": "Hello",
    "/config/other/string": "Other Hello",
    "/config/int": "42",
    "/config/other/int": "24",
    "/config/double": "3.14",
    "/config/other/double": "2.72",
    "/config/bool": "true",
    "/config/other/bool": "false",
    "/config/bytes": Base64.encode(magic),
    "/config/other/bytes": Base64.encode(magic2),
    "/config/stringy/array": #"["Hello", "World"]"#,
    "/config/other/stringy/array": #"["Hello", "Swift"]"#,
    "/config/inty/array": "[42, 24]",
    "/config/other/inty/array": "[16, 32]",
    "/config/doubly/array": "[3.14, 2.72]",
    "/config/other/doubly/array": "[0.9, 1.8]",
    "/config/booly/array": "[true, false]",
    "/config/other/booly/array": "[false, true, true]",
    "/config/byteChunky/array": #"["\#(Base64.encode(magic))", "\#(Base64.encode(magic2))"]"#,
    "/config/other/byteChunky/array":
        #"["\#(Base64.encode(magic))", "\#(Base64.encode(magic2))", "\#(Base64.encode(magic))"]"#,
]

/// Runs the provider while `body` runs, after its first snapshot has arrived.
private func whileRunning(
    _ provider: DiscoveryConfigProvider,
    _ body: () async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await provider.run() }
        defer { group.cancelAll() }
        try await provider.waitUntilReady()
        try await body()
    }
}

/// Values a watch received, in order.
private final class Received<Value: Sendable>: Sendable {
    private let values = Lock<[Value]>([])
    var all: [Value] { self.values.withLock { $0 } }
    func append(_ value: Value) { self.values.withLock { $0.append(value) } }
}

@Suite("DiscoveryConfigProvider")
struct DiscoveryConfigProviderTests {
    @Test("passes swift-configuration's provider compatibility test over a StaticSource")
    func compatibility() async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource(compatValues))
        try await whileRunning(provider) {
            try await ProviderCompatTest(provider: provider).runTest()
        }
    }

    @Test("passes the compatibility test after load(), without run()")
    func compatibilityAfterLoad() async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource(compatValues))
        try await provider.load()
        #expect(provider.isReady)
        try await ProviderCompatTest(provider: provider).runTest()
    }

    @Test("a configuration key maps to the prefix and its components joined by the separator")
    func keyMapping() async throws {
        let source = StaticSource([
            "/apps/checkout/http/port": "8080",
            "/flat/http.port": "9090",
            "/apps/checkout/a//b": "unreachable",
        ])
        let nested = DiscoveryConfigProvider(source: source, configuration: .init(prefix: "/apps/checkout"))
        try await nested.load()
        let port = try nested.value(forKey: ["http", "port"], type: .int)
        #expect(port.encodedKey == "/apps/checkout/http/port")
        #expect(port.value?.content == .int(8080))
        #expect(nested.providerName == "DiscoveryConfigProvider[/apps/checkout/]")
        #expect(try nested.value(forKey: ["a", "b"], type: .string).value == nil)

        let flat = DiscoveryConfigProvider(
            source: source,
            configuration: .init(prefix: "/flat/", separator: ".", name: "flat")
        )
        try await flat.load()
        let flatPort = try flat.value(forKey: ["http", "port"], type: .int)
        #expect(flatPort.encodedKey == "/flat/http.port")
        #expect(flatPort.value?.content == .int(9090))
        #expect(flat.providerName == "DiscoveryConfigProvider[flat]")
    }

    @Test("scalars tolerate surrounding white space; booleans read as swift-configuration's environment provider does")
    func typedParsing() async throws {
        let source = StaticSource([
            "/config/port": " 8080\n",
            "/config/ratio": "2.5",
            "/config/whole": "3",
            "/config/on": "YES",
            "/config/off": "0",
            "/config/name": " spaced \n",
            "/config/tags": #"["a", "b\"c", 3]"#,
            "/config/empty": "[]",
            "/config/key": Base64.encode([0, 1, 2, 255]),
        ])
        let provider = DiscoveryConfigProvider(source: source)
        try await provider.load()
        #expect(try provider.value(forKey: "port", type: .int).value?.content == .int(8080))
        #expect(try provider.value(forKey: "port", type: .double).value?.content == .double(8080))
        #expect(try provider.value(forKey: "ratio", type: .double).value?.content == .double(2.5))
        #expect(try provider.value(forKey: "whole", type: .double).value?.content == .double(3))
        #expect(try provider.value(forKey: "on", type: .bool).value?.content == .bool(true))
        #expect(try provider.value(forKey: "off", type: .bool).value?.content == .bool(false))
        #expect(try provider.value(forKey: "name", type: .string).value?.content == .string(" spaced \n"))
        #expect(
            try provider.value(forKey: "tags", type: .stringArray).value?.content == .stringArray(["a", "b\"c", "3"])
        )
        #expect(try provider.value(forKey: "empty", type: .intArray).value?.content == .intArray([]))
        #expect(try provider.value(forKey: "key", type: .bytes).value?.content == .bytes([0, 1, 2, 255]))
        #expect(try provider.value(forKey: "absent", type: .int).value == nil)
        #expect(try provider.value(forKey: "absent", type: .int).encodedKey == "/config/absent")
    }

    @Test(
        "a value of the wrong type is an error naming the key and quoting the text",
        arguments: [
            ("/config/port", "80x", ConfigType.int, "expected an integer"),
            ("/config/ratio", "fast", .double, "expected a number"),
            ("/config/on", "maybe", .bool, "expected a boolean"),
            ("/config/key", "not base64!", .bytes, "expected base64 bytes"),
            ("/config/ports", "[1, 2", .intArray, "line 1, column 6"),
            ("/config/ports", "[1, \"two\"]", .intArray, "item 1 is not one"),
            ("/config/ports", "{\"a\": 1}", .intArray, "expected a JSON array of integers"),
            ("/config/flags", "[true, null]", .boolArray, "item 1 is not one"),
            ("/config/names", "[[\"nested\"]]", .stringArray, "item 0 is not one"),
            ("/config/chunks", "[\"!!\"]", .byteChunkArray, "expected a JSON array of base64 strings"),
        ]
    )
    func wrongType(key: String, text: String, type: ConfigType, words: String) async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource([key: text]))
        try await provider.load()
        let components = Array(key.split(separator: "/").dropFirst().map(String.init))
        let error = try #require(throws: BeaconError.self) {
            try provider.value(forKey: AbsoluteConfigKey(components), type: type)
        }
        #expect(error.code == .invalidValue)
        #expect(error.key == key)
        #expect(error.text == text)
        #expect(error.description.contains(words), "\(error)")
        #expect(error.description.contains("configuration key \"\(components.joined(separator: "."))\""))
        // fetchValue reads the source and parses the same way.
        await #expect(throws: BeaconError.self) {
            try await provider.fetchValue(forKey: AbsoluteConfigKey(components), type: type)
        }
    }

    @Test("secret keys and prefixes are marked secret, and errors about them never show the text")
    func secrets() async throws {
        let source = StaticSource([
            "/config/db/password": "hunter2",
            "/config/db/host": "db.internal",
            "/config/credentials/api/token": "[1, oops",
            "/config/credentialsStore": "plain",
        ])
        let provider = DiscoveryConfigProvider(
            source: source,
            configuration: .init(secretKeys: ["db.password"], secretPrefixes: ["credentials"])
        )
        try await provider.load()
        #expect(
            try provider.value(forKey: "db.password", type: .string).value == ConfigValue("hunter2", isSecret: true)
        )
        #expect(try provider.value(forKey: "db.host", type: .string).value?.isSecret == false)
        #expect(try provider.value(forKey: "credentialsStore", type: .string).value?.isSecret == false)
        #expect(try await provider.fetchValue(forKey: "db.password", type: .string).value?.isSecret == true)

        for (key, type) in [("db.password", ConfigType.int), ("credentials.api.token", .intArray)] {
            let error = try #require(throws: BeaconError.self) {
                try provider.value(forKey: AbsoluteConfigKey(ConfigKey(key)), type: type)
            }
            #expect(error.text == nil)
            #expect(!error.description.contains("hunter2"))
            #expect(!error.description.contains("oops"))
            #expect(!error.description.contains("column"))
            #expect(error.description.contains("secret"))
        }
    }

    @Test("before the first snapshot every key is absent, so a ConfigReader falls through to the next provider")
    func beforeFirstSnapshot() async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource(["/config/http/port": "8080"]))
        #expect(!provider.isReady)
        #expect(try provider.value(forKey: "http.port", type: .int).value == nil)
        let fallback = InMemoryProvider(values: ["http.port": 9000])
        let config = ConfigReader(providers: [provider, fallback])
        #expect(config.int(forKey: "http.port") == 9000)
        try await provider.load()
        #expect(config.int(forKey: "http.port") == 8080)
        #expect(config.int(forKey: "http.timeout", default: 5) == 5)
    }

    @Test("run() lasts until graceful shutdown or cancellation", arguments: ServiceRunChecks.Stop.allCases)
    func runLasts(stop: ServiceRunChecks.Stop) async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource(["/config/a": "1"]))
        try await ServiceRunChecks.expectRunsUntil(stop, provider) {
            try await provider.waitUntilReady()
        }
        // The last snapshot is still served after run() has ended, and watches end at once.
        #expect(try provider.value(forKey: "a", type: .int).value?.content == .int(1))
        let count = try await provider.watchValue(forKey: "a", type: .int) { updates in
            var count = 0
            for await _ in updates { count += 1 }
            return count
        }
        #expect(count == 1)
    }

    @Test("a watch of the prefix keeps the snapshot current and ends the watches when run() ends")
    func followsChanges() async throws {
        let source = StaticSource(["/config/a": "1"])
        let provider = DiscoveryConfigProvider(source: source)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.run() }
            try await provider.waitUntilReady()
            let snapshots = Received<Int?>()
            group.addTask {
                try await provider.watchSnapshot { updates in
                    for await snapshot in updates {
                        let value = try snapshot.value(forKey: "a", type: .int).value
                        if case .int(let int) = value?.content { snapshots.append(int) } else { snapshots.append(nil) }
                    }
                }
            }
            #expect(try await eventually { snapshots.all == [1] })
            source.set("/config/a", to: "2")
            #expect(try await eventually { try provider.value(forKey: "a", type: .int).value?.content == .int(2) })
            #expect(try await eventually { snapshots.all == [1, 2] })
            source.delete("/config/a")
            #expect(try await eventually { snapshots.all == [1, 2, nil] })
            #expect(try provider.snapshot().value(forKey: "a", type: .int).value == nil)
            group.cancelAll()
        }
    }

    @Test("each value watcher is told of changes to its own typed value only")
    func typedWatchers() async throws {
        let source = StaticSource(["/config/ratio": "3.0", "/config/enabled": "true", "/config/other": "x"])
        let provider = DiscoveryConfigProvider(source: source)
        try await whileRunning(provider) {
            try await withThrowingTaskGroup(of: Void.self) { group throws in
                let ratios = Received<ConfigContent?>()
                let flags = Received<ConfigContent?>()
                let failures = Received<String>()
                for (key, type, received) in [("ratio", ConfigType.double, ratios), ("enabled", .bool, flags)] {
                    group.addTask {
                        try await provider.watchValue(forKey: AbsoluteConfigKey(ConfigKey(key)), type: type) {
                            updates in
                            for await update in updates {
                                switch update {
                                case .success(let result): received.append(result.value?.content)
                                case .failure(let error): failures.append("\(key): \(error)")
                                }
                            }
                        }
                    }
                }
                #expect(try await eventually { ratios.all == [.double(3)] && flags.all == [.bool(true)] })
                // Another key changes, and the ratio's text changes but not its value: nobody is told.
                source.set(["/config/other": "y", "/config/ratio": "3.00"])
                source.set("/config/ratio", to: "4.5")
                #expect(try await eventually { ratios.all == [.double(3), .double(4.5)] })
                source.set("/config/enabled", to: "no")
                #expect(try await eventually { flags.all == [.bool(true), .bool(false)] })
                // A value of the wrong type reaches its watcher as a failure; a deleted key as nil.
                source.set("/config/enabled", to: "perhaps")
                #expect(try await eventually { failures.all.count == 1 })
                #expect(failures.all.first?.contains("perhaps") == true)
                source.delete("/config/ratio")
                #expect(try await eventually { ratios.all == [.double(3), .double(4.5), nil] })
                #expect(flags.all == [.bool(true), .bool(false)])
                group.cancelAll()
            }
        }
    }

    @Test("int and bool watchers through a ConfigReader receive the new typed values")
    func readerWatchers() async throws {
        let source = StaticSource(["/config/workers": "4", "/config/debug": "false"])
        let provider = DiscoveryConfigProvider(source: source)
        let config = ConfigReader(provider: provider)
        try await whileRunning(provider) {
            try await withThrowingTaskGroup(of: Void.self) { group throws in
                let workers = Received<Int>()
                let debug = Received<Bool>()
                group.addTask {
                    try await config.watchInt(forKey: "workers", default: 1) { updates in
                        for await value in updates { workers.append(value) }
                    }
                }
                group.addTask {
                    try await config.watchBool(forKey: "debug", default: false) { updates in
                        for await value in updates { debug.append(value) }
                    }
                }
                #expect(try await eventually { workers.all.last == 4 && debug.all.last == false })
                source.set(["/config/workers": "8", "/config/debug": "true"])
                #expect(try await eventually { workers.all.last == 8 && debug.all.last == true })
                group.cancelAll()
            }
        }
    }

    @Test("an outage of the source: reads answer from the last snapshot, logged once per episode")
    func outage() async throws {
        let logs = InMemoryLogHandler()
        let source = FaultInjectingSource(StaticSource(["/config/port": "8080"]))
        let provider = DiscoveryConfigProvider(source: source, logger: Logger(label: "test", factory: { _ in logs }))
        try await whileRunning(provider) {
            source.failAll()
            #expect(try await provider.fetchValue(forKey: "port", type: .int).value?.content == .int(8080))
            #expect(try await provider.fetchValue(forKey: "port", type: .int).value?.content == .int(8080))
            #expect(try await provider.fetchValue(forKey: "absent", type: .int).value == nil)
            #expect(try provider.value(forKey: "port", type: .int).value?.content == .int(8080))
            #expect(source.counts.failed == 3)
            #expect(logs.entries.filter { $0.level == .warning }.count == 1)
            #expect(logs.entries.filter { $0.level == .info }.isEmpty)

            source.heal()
            source.base.set("/config/port", to: "8081")
            #expect(try await provider.fetchValue(forKey: "port", type: .int).value?.content == .int(8081))
            #expect(try await provider.fetchValue(forKey: "port", type: .int).value?.content == .int(8081))
            #expect(logs.entries.filter { $0.level == .info }.count == 1)

            source.failAll()
            _ = try await provider.fetchValue(forKey: "port", type: .int)
            #expect(logs.entries.filter { $0.level == .warning }.count == 2)
            let warning = try #require(logs.entries.first { $0.level == .warning })
            #expect(warning.metadata["beacon.config.key"] == "/config/port")
            #expect(warning.metadata["beacon.config.provider"] == "DiscoveryConfigProvider[/config/]")
        }
    }

    @Test("a source whose watch fails is followed again, and the failure is logged once")
    func watchRetry() async throws {
        let logs = InMemoryLogHandler()
        let source = FailingWatchSource(StaticSource(["/config/a": "1"]), failures: 2)
        let provider = DiscoveryConfigProvider(
            source: source,
            configuration: .init(retryDelay: .milliseconds(1)),
            logger: Logger(label: "test", factory: { _ in logs })
        )
        try await whileRunning(provider) { () throws in
            #expect(try provider.value(forKey: "a", type: .int).value?.content == .int(1))
            #expect(source.watches == 3)
            #expect(logs.entries.filter { $0.level == .warning }.count == 1)
            // The recovery is logged just after the snapshot is installed.
            #expect(try await eventually { logs.entries.filter { $0.level == .info }.count == 1 })
        }
    }

    @Test("load() does not replace a snapshot the watch delivered")
    func loadAfterWatch() async throws {
        let source = StaticSource(["/config/a": "1"])
        let provider = DiscoveryConfigProvider(source: source)
        try await whileRunning(provider) { () throws in
            try await provider.load()
            #expect(try provider.value(forKey: "a", type: .int).value?.content == .int(1))
        }
    }

    @Test("waitUntilReady() throws CancellationError when cancelled before the first snapshot")
    func waitCancelled() async throws {
        let provider = DiscoveryConfigProvider(source: StaticSource())
        let task = Task { try await provider.waitUntilReady() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}

/// A source whose first watches throw before they deliver anything.
private final class FailingWatchSource: DiscoverySource {
    let base: StaticSource
    private let state: Lock<(failuresLeft: Int, watches: Int)>

    init(_ base: StaticSource, failures: Int) {
        self.base = base
        self.state = Lock((failures, 0))
    }

    var watches: Int { self.state.withLock { $0.watches } }

    func get(_ key: String) async throws -> KeyValue? { await self.base.get(key) }
    func list(prefix: String) async throws -> [KeyValue] { await self.base.list(prefix: prefix) }
    func watch(prefix: String) -> DiscoveryWatch {
        let fails = self.state.withLock { state -> Bool in
            state.watches += 1
            guard state.failuresLeft > 0 else { return false }
            state.failuresLeft -= 1
            return true
        }
        guard fails else { return self.base.watch(prefix: prefix) }
        return DiscoveryWatch {
            { throw BeaconError(.unavailable, "injected watch failure") }
        }
    }
}
