// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
public import Configuration
public import Logging
public import ServiceLifecycle

/// A swift-configuration provider that reads its values from a discovery source (etcd, Consul, ZooKeeper, or an
/// in-process source), under a prefix, and follows their changes.
///
/// The configuration key `http.port` is read from the discovery key `/config/http/port` (the prefix and the
/// separator are set in ``Configuration``). Scalars are stored as text, arrays as a JSON array, bytes as base64.
///
/// ```swift
/// let etcd = try EtcdClient(configuration: .init(endpoints: ["http://127.0.0.1:2379"]))
/// let beacon = DiscoveryConfigProvider(source: etcd, configuration: .init(prefix: "/config/checkout/"))
/// let config = ConfigReader(providers: [beacon, EnvironmentVariablesProvider()])
/// // Run `beacon` in the app's ServiceGroup; then:
/// let port = config.int(forKey: "http.port", default: 8080)
/// ```
///
/// ## Snapshot and lifecycle
///
/// The provider is a `Service`: ``run()`` watches the prefix and keeps a snapshot of it current. The synchronous
/// reads (`value(forKey:type:)`, `snapshot()`) and the watches are served from that snapshot; `fetchValue` reads the
/// source. Until the first snapshot has arrived (from ``run()`` or ``load()``) every key is absent, so a
/// `ConfigReader` falls through to its next provider or to the default; ``waitUntilReady()`` waits for it. When
/// ``run()`` ends (graceful shutdown or cancellation), the watches end too, and reads keep answering from the last
/// snapshot.
///
/// ## Failures
///
/// A discovery outage never reaches the reader: reads keep answering from the last snapshot, and `fetchValue`, when
/// the source cannot answer, answers from the snapshot too. The outage is logged once when it starts and once when
/// the source answers again. The only error a read throws is a `BeaconError` with code
/// `BeaconError.Code.invalidValue`, for a value that cannot be read as the requested type; it names the key, and
/// quotes the value unless the key is secret.
public final class DiscoveryConfigProvider: ConfigProvider, Service, Sendable {
    /// What a value watcher was last told, to tell it only of changes.
    private enum Outcome: Equatable {
        case found(LookupResult)
        case failed(String)
    }

    private struct ValueWatcher {
        var components: [String]
        var type: ConfigType
        var last: Outcome
        var continuation: AsyncStream<Result<LookupResult, any Error>>.Continuation
    }

    private struct State {
        var tree: ConfigTree
        /// Set once a snapshot came from the watch: ``load()`` then no longer replaces it.
        var hasWatchSnapshot = false
        var started = false
        var stopped = false
        var inOutage = false
        var nextID = 0
        var valueWatchers: [Int: ValueWatcher] = [:]
        var snapshotWatchers: [Int: AsyncStream<any ConfigSnapshot>.Continuation] = [:]
        var readyWaiters: [Int: AsyncStream<Never>.Continuation] = [:]

        mutating func takeID() -> Int {
            defer { self.nextID += 1 }
            return self.nextID
        }
    }

    /// The source the provider reads.
    public let source: any DiscoverySource
    /// The provider's configuration.
    public let configuration: Configuration
    /// The provider's name, `DiscoveryConfigProvider[<name or prefix>]`.
    public let providerName: String
    private let mapping: KeyMapping
    private let logger: Logger
    private let state: Lock<State>

    /// Creates a provider over a discovery source; it serves nothing until ``run()`` or ``load()`` brings the first
    /// snapshot.
    ///
    /// - Parameters:
    ///   - source: The discovery source that holds the values.
    ///   - configuration: The prefix, the key separator and the secret keys.
    ///   - logger: Where outages and watch failures are logged.
    public init(
        source: some DiscoverySource,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.configuration", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        let mapping = KeyMapping(configuration)
        let providerName = "DiscoveryConfigProvider[\(configuration.name ?? mapping.prefix)]"
        self.source = source
        self.configuration = configuration
        self.providerName = providerName
        self.mapping = mapping
        self.state = Lock(State(tree: ConfigTree(providerName: providerName, mapping: mapping, source: nil)))
        var logger = logger
        logger[metadataKey: LogKey.provider] = "\(providerName)"
        self.logger = logger
    }

    /// Whether a first snapshot has arrived, so that reads answer from discovery rather than as if every key were
    /// absent.
    public var isReady: Bool {
        self.state.withLock { $0.tree.source != nil }
    }

    /// Waits until the first snapshot has arrived (from ``run()`` or ``load()``).
    ///
    /// Returns at once when it already has. It also returns when ``run()`` ends before a snapshot arrived (the
    /// provider was shut down); ``isReady`` then stays `false`.
    ///
    /// - Throws: `CancellationError` when the waiting task is cancelled first.
    public func waitUntilReady() async throws {
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        let id = self.state.withLock { state -> Int? in
            guard state.tree.source == nil, !state.stopped else {
                continuation.finish()
                return nil
            }
            let id = state.takeID()
            state.readyWaiters[id] = continuation
            return id
        }
        defer {
            if let id { self.state.withLock { _ = $0.readyWaiters.removeValue(forKey: id) } }
        }
        for await _ in stream {}
        if !self.isReady { try Task.checkCancellation() }
    }

    /// Reads the prefix once (a `list` of the source) and makes it the current snapshot, so that reads answer before
    /// ``run()`` has delivered its first snapshot.
    ///
    /// Call it at start-up to read configuration before the service group runs. Once ``run()`` has delivered a
    /// snapshot, `load()` reads but changes nothing: the watch is always at least as recent.
    ///
    /// - Throws: The source's error when it cannot answer.
    public func load() async throws {
        let snapshot = try await self.source.snapshot(prefix: self.mapping.prefix)
        self.install(snapshot, fromWatch: false)
    }

    /// Watches the prefix and keeps the snapshot current, until graceful shutdown or cancellation.
    ///
    /// When the source's watch fails, the provider keeps serving the last snapshot, logs the outage once, and
    /// follows the prefix again after ``Configuration/retryDelay`` (doubling up to 30 seconds). When `run()` returns,
    /// the value and snapshot watches end; reads keep answering from the last snapshot.
    ///
    /// - Precondition: `run()` is called at most once.
    public func run() async {
        let first = self.state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        precondition(first, "DiscoveryConfigProvider.run() may be called only once")
        defer { self.stop() }
        await cancelWhenGracefulShutdown {
            await self.follow()
        }
    }

    private func follow() async {
        await self.source.follow(
            prefix: self.mapping.prefix,
            retryDelay: self.configuration.retryDelay,
            maximumRetryDelay: .seconds(30)
        ) { snapshot in
            self.install(snapshot, fromWatch: true)
        } onFailure: { error, _ in
            self.noteOutage(error, operation: "watch", key: self.mapping.prefix)
        }
    }

    /// Ends every watch; later watches get the current value and end at once.
    private func stop() {
        self.state.withLock { state in
            state.stopped = true
            for watcher in state.valueWatchers.values { watcher.continuation.finish() }
            for continuation in state.snapshotWatchers.values { continuation.finish() }
            for continuation in state.readyWaiters.values { continuation.finish() }
            state.readyWaiters = [:]
        }
    }

    /// Makes a discovery snapshot the current one and tells the watchers what changed for them.
    private func install(_ snapshot: DiscoverySnapshot, fromWatch: Bool) {
        let tree = ConfigTree(providerName: self.providerName, mapping: self.mapping, source: snapshot)
        let recovered = self.state.withLock { state -> Bool in
            if !fromWatch && state.hasWatchSnapshot { return false }
            var recovered = false
            if fromWatch {
                state.hasWatchSnapshot = true
                recovered = state.inOutage
                state.inOutage = false
            }
            guard tree.source != state.tree.source else { return recovered }
            state.tree = tree
            for (id, var watcher) in state.valueWatchers {
                let (result, outcome) = Self.lookup(watcher.components, watcher.type, in: tree)
                guard outcome != watcher.last else { continue }
                watcher.last = outcome
                state.valueWatchers[id] = watcher
                watcher.continuation.yield(result)
            }
            for continuation in state.snapshotWatchers.values { continuation.yield(tree) }
            for continuation in state.readyWaiters.values { continuation.finish() }
            state.readyWaiters = [:]
            return recovered
        }
        if recovered { self.logRecovery() }
    }

    private static func lookup(
        _ components: [String],
        _ type: ConfigType,
        in tree: ConfigTree
    ) -> (Result<LookupResult, any Error>, Outcome) {
        do {
            let result = try tree.value(forKey: AbsoluteConfigKey(components), type: type)
            return (.success(result), .found(result))
        } catch {
            return (.failure(error), .failed("\(error)"))
        }
    }

    /// Records a failure to reach the source; logs it when it starts an outage.
    private func noteOutage(_ error: any Error, operation: String, key: String) {
        let starts = self.state.withLock { state in
            defer { state.inOutage = true }
            return !state.inOutage
        }
        guard starts else { return }
        self.logger.warning(
            "Discovery is unavailable; configuration is served from the last snapshot",
            metadata: [LogKey.operation: "\(operation)", LogKey.key: "\(key)", LogKey.error: "\(error)"]
        )
    }

    /// Records that the source answered; logs the end of an outage.
    private func noteAnswer() {
        let ends = self.state.withLock { state in
            defer { state.inOutage = false }
            return state.inOutage
        }
        if ends { self.logRecovery() }
    }

    private func logRecovery() {
        self.logger.info("Discovery is available again")
    }
}

// MARK: - ConfigProvider

extension DiscoveryConfigProvider {
    /// Reads a value from the current snapshot.
    ///
    /// - Parameters:
    ///   - key: The configuration key; its context is not used.
    ///   - type: The type to read the value as.
    /// - Returns: The discovery key and the value; `nil` as the value when the key is absent, or before the first
    ///   snapshot.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` when the value cannot be read as `type`.
    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try self.state.withLock { $0.tree }.value(forKey: key, type: type)
    }

    /// Reads a value from the source (`get`); when the source cannot answer, from the current snapshot.
    ///
    /// - Parameters:
    ///   - key: The configuration key; its context is not used.
    ///   - type: The type to read the value as.
    /// - Returns: The discovery key and the value; `nil` as the value when the key is absent.
    /// - Throws: `BeaconError` with code `BeaconError.Code.invalidValue` when the value cannot be read as `type`.
    public func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        let encodedKey = self.mapping.encode(key.components)
        let entry: KeyValue?
        do {
            entry = try await self.source.get(encodedKey)
        } catch {
            if !(error is CancellationError) { self.noteOutage(error, operation: "get", key: encodedKey) }
            return try self.value(forKey: key, type: type)
        }
        self.noteAnswer()
        guard let entry else { return LookupResult(encodedKey: encodedKey, value: nil) }
        let configEntry = ConfigEntry(entry, isSecret: self.mapping.isSecret(key.components))
        return LookupResult(encodedKey: encodedKey, value: try configEntry.value(as: type, configKey: key.components))
    }

    /// Watches a value: the handler's sequence yields the current result at once, then a new one each time a new
    /// snapshot changes what a read of `key` as `type` returns (the typed value, its absence, or its error).
    ///
    /// The sequence ends when the handler's task is cancelled, or when ``run()`` has ended.
    ///
    /// - Parameters:
    ///   - key: The configuration key; its context is not used.
    ///   - type: The type to read the value as.
    ///   - updatesHandler: Receives the sequence of results; the watch ends when it returns.
    /// - Returns: What `updatesHandler` returns.
    /// - Throws: What `updatesHandler` throws.
    public func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: (
            _ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>
        ) async throws -> Return
    ) async throws -> Return {
        let (stream, continuation) = AsyncStream<Result<LookupResult, any Error>>
            .makeStream(bufferingPolicy: .bufferingNewest(1))
        let components = key.components
        let id = self.state.withLock { state -> Int? in
            let (result, outcome) = Self.lookup(components, type, in: state.tree)
            continuation.yield(result)
            guard !state.stopped else {
                continuation.finish()
                return nil
            }
            let id = state.takeID()
            state.valueWatchers[id] = ValueWatcher(
                components: components,
                type: type,
                last: outcome,
                continuation: continuation
            )
            return id
        }
        defer {
            if let id { self.state.withLock { _ = $0.valueWatchers.removeValue(forKey: id) } }
        }
        return try await updatesHandler(ConfigUpdatesAsyncSequence(stream))
    }

    /// The current snapshot; empty before the first one has arrived.
    ///
    /// - Returns: A snapshot that does not change; read it for values that must be consistent with each other.
    public func snapshot() -> any ConfigSnapshot {
        self.state.withLock { $0.tree }
    }

    /// Watches the snapshot: the handler's sequence yields the current snapshot at once, then each new one whose
    /// discovery entries differ.
    ///
    /// The sequence ends when the handler's task is cancelled, or when ``run()`` has ended.
    ///
    /// - Parameter updatesHandler: Receives the sequence of snapshots; the watch ends when it returns.
    /// - Returns: What `updatesHandler` returns.
    /// - Throws: What `updatesHandler` throws.
    public func watchSnapshot<Return: ~Copyable>(
        updatesHandler: (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        let (stream, continuation) = AsyncStream<any ConfigSnapshot>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = self.state.withLock { state -> Int? in
            continuation.yield(state.tree)
            guard !state.stopped else {
                continuation.finish()
                return nil
            }
            let id = state.takeID()
            state.snapshotWatchers[id] = continuation
            return id
        }
        defer {
            if let id { self.state.withLock { _ = $0.snapshotWatchers.removeValue(forKey: id) } }
        }
        return try await updatesHandler(ConfigUpdatesAsyncSequence(stream))
    }
}

/// The metadata keys of the provider's log messages.
enum LogKey {
    static let provider = "beacon.config.provider"
    static let operation = "beacon.config.operation"
    static let key = "beacon.config.key"
    static let error = "beacon.error"
}
