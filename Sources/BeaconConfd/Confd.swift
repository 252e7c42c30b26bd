// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconLocks
public import Logging
public import ServiceLifecycle

/// confd, driven by watches: keeps files rendered from discovered keys up to date, checks them, and reloads the
/// services that read them.
///
/// Each ``TemplateResource`` names the keys its template reads, and the services whose instances it renders
/// (``TemplateResource/services``). In ``Configuration/Mode/watch`` mode every key is followed with
/// `DiscoverySource.watch(prefix:)` and every service with the source's `ServiceRegistry.watchInstances(of:)` (through
/// `DiscoverySource.watch(_:)`); a change renders the resource again after ``Configuration/debounce``, from the
/// snapshots the watches delivered (no extra read). When discovery cannot be reached, the destination files keep their
/// last version and the watches are retried with backoff.
///
/// `Confd` is a swift-service-lifecycle `Service`: run it in a `ServiceGroup`, and graceful shutdown (SIGTERM) ends
/// ``run()`` between two renders.
///
/// ```swift
/// let confd = try Confd(
///     resources: try TemplateResource.loadAll(confdir: "/etc/confd"),
///     source: etcd,
///     configuration: .init(mode: .watch),
///     logger: logger
/// )
/// let group = ServiceGroup(services: [etcd, confd], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class Confd: Service, Sendable {
    /// What one resource's processing gave: its outcome, or why it failed.
    public struct SyncResult: Sendable {
        /// The resource.
        public var resource: TemplateResource
        /// What was done, or the error (reading discovery, rendering, checking, writing, reloading).
        public var result: Result<ResourceProcessor.Outcome, any Error>
    }

    /// How resources are kept up to date.
    public let configuration: Configuration
    private let processors: [ResourceProcessor]
    private let source: any DiscoverySource
    private let logger: Logger

    /// Prepares resources: parses every template now, so that a bad one is reported before anything runs.
    ///
    /// - Parameters:
    ///   - resources: The resources, such as ``TemplateResource/loadAll(confdir:)`` returns.
    ///   - source: Where keys are read and followed; for resources that name services, a `ServiceRegistry` too (etcd,
    ///     ZooKeeper, Consul, a `StaticSource`, or a `CachingSource` in front of one).
    ///   - configuration: When and how resources are rendered.
    ///   - logger: Where changes and failures are logged (keys and values are not secrets; commands' output is
    ///     logged on failure).
    /// - Throws: ``ConfdError`` for the first template that cannot be read or parsed, or with code
    ///   ``ConfdError/Code/invalidConfiguration`` naming the resource when it names a service that is not a name
    ///   (empty, or holding `/`) or a service the source cannot list, not being a service registry.
    public init(
        resources: [TemplateResource],
        source: any DiscoverySource,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.confd", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(ConfdError) {
        var processors: [ResourceProcessor] = []
        for resource in resources {
            for entry in resource.keys where entry.hasPrefix(TemplateResource.servicePrefix) {
                if let problem = TemplateResource.serviceProblem(entry) {
                    throw ConfdError(.invalidConfiguration, problem, file: resource.name)
                }
            }
            for service in resource.services {
                do {
                    _ = try source.serviceRegistry(for: .service(service))
                } catch {
                    throw ConfdError(
                        .invalidConfiguration,
                        "the resource reads service:\(service), but \(error.message)",
                        file: resource.name
                    )
                }
            }
            processors.append(
                try ResourceProcessor(resource: resource, configuration: configuration.processing, logger: logger)
            )
        }
        self.processors = processors
        self.source = source
        self.configuration = configuration
        self.logger = logger
    }

    /// The resources being kept up to date.
    public var resources: [TemplateResource] { self.processors.map(\.resource) }

    /// Reads every resource's keys (and the instances of its services) and processes it once.
    ///
    /// - Returns: One result per resource, in order; failures are also logged.
    public func syncAll() async -> [SyncResult] {
        var results: [SyncResult] = []
        for processor in self.processors {
            let result: Result<ResourceProcessor.Outcome, any Error>
            do {
                var snapshots: [String: DiscoverySnapshot] = [:]
                for followed in self.followed(processor.resource) {
                    snapshots[followed.id] = try await self.source.snapshot(of: followed.location)
                }
                result = await self.process(processor, snapshots: snapshots)
            } catch {
                self.logger.error(
                    "Cannot read the resource's keys; the destination keeps its last version",
                    metadata: Self.metadata(processor.resource, error: error)
                )
                result = .failure(error)
            }
            results.append(SyncResult(resource: processor.resource, result: result))
        }
        return results
    }

    /// Keeps the resources up to date as ``configuration`` says, until cancelled or graceful shutdown.
    ///
    /// - Throws: In ``Configuration/Mode/onetime`` mode, the first resource's error when any resource
    ///   failed (every failure is logged); in the other modes, nothing: failures are logged and retried.
    public func run() async throws {
        switch self.configuration.mode.base {
        case .onetime:
            let results = await self.syncAll()
            if let failure = results.lazy.compactMap({ try? $0.result.failureError() }).first {
                throw failure
            }
        case .interval(let interval):
            try? await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    _ = await self.syncAll()
                    try await Task.sleep(for: interval)
                }
            }
        case .watch:
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    for processor in self.processors {
                        group.addTask { await self.follow(processor) }
                    }
                }
            }
        }
    }

    // MARK: Watch mode

    /// Follows a resource's keys and services and renders it after each change, until cancelled.
    private func follow(_ processor: ResourceProcessor) async {
        let followed = self.followed(processor.resource)
        let snapshots = LatestSnapshots()
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            for item in followed {
                group.addTask {
                    await self.follow(item, into: snapshots, changed: changed, resource: processor.resource)
                }
            }
            group.addTask {
                for await _ in changes {
                    do {
                        try await Task.sleep(for: self.configuration.debounce)
                    } catch {
                        return
                    }
                    let current = snapshots.all
                    // Render once every key and service has been read, never from a partial view.
                    guard followed.allSatisfy({ current[$0.id] != nil }) else { continue }
                    _ = await self.process(processor, snapshots: current)
                }
            }
        }
    }

    /// Follows one key or service, storing each snapshot and signalling the change; retries with backoff when the
    /// watch fails.
    private func follow(
        _ item: Followed,
        into snapshots: LatestSnapshots,
        changed: AsyncStream<Void>.Continuation,
        resource: TemplateResource
    ) async {
        var failing = false
        await self.source.follow(
            item.location,
            retryDelay: self.configuration.retryDelay,
            maximumRetryDelay: self.configuration.maximumRetryDelay
        ) { snapshot in
            snapshots.store(snapshot, for: item.id)
            changed.yield()
            if failing {
                self.logger.info("Following the key again", metadata: Self.metadata(resource, key: item.id))
                failing = false
            }
        } onFailure: { error, retryIn in
            var metadata = Self.metadata(resource, key: item.id, error: error)
            metadata["beacon.confd.retry_in"] = "\(retryIn)"
            if failing {
                self.logger.debug("Still cannot follow the key", metadata: metadata)
            } else {
                self.logger.warning("Cannot follow the key; the destination keeps its last version", metadata: metadata)
                failing = true
            }
        }
    }

    /// A key or a service a resource reads: `id` is the full key, or `service:<name>`.
    private struct Followed: Sendable {
        var id: String
        var location: DiscoveryLocation
    }

    /// What a resource reads: each full key as a prefix (read with everything under it), then each service, once each.
    private func followed(_ resource: TemplateResource) -> [Followed] {
        var seen: Set<String> = []
        var followed: [Followed] = []
        for key in resource.fullKeys(globalPrefix: self.configuration.prefix) where seen.insert(key).inserted {
            followed.append(Followed(id: key, location: .prefix(key)))
        }
        for service in resource.services {
            let id = TemplateResource.servicePrefix + service
            if seen.insert(id).inserted { followed.append(Followed(id: id, location: .service(service))) }
        }
        return followed
    }

    // MARK: Processing

    /// Renders and writes a resource from the snapshots of what it reads (by ``Followed/id``).
    private func process(
        _ processor: ResourceProcessor,
        snapshots: [String: DiscoverySnapshot]
    ) async -> Result<ResourceProcessor.Outcome, any Error> {
        do {
            var entries: [KeyValue] = []
            for key in processor.resource.fullKeys(globalPrefix: self.configuration.prefix) {
                entries += snapshots[key]?.entries ?? []
            }
            var instances: [ServiceInstance] = []
            for service in processor.resource.services {
                for entry in snapshots[TemplateResource.servicePrefix + service]?.entries ?? [] {
                    instances.append(try ServiceInstance(decoding: entry))
                }
            }
            let data = TemplateData(
                entries: entries,
                prefix: processor.resource.effectivePrefix(globalPrefix: self.configuration.prefix),
                instances: instances
            )
            return .success(try await processor.process(data))
        } catch {
            self.logger.error(
                "Cannot update the destination; it keeps its last version",
                metadata: Self.metadata(processor.resource, error: error)
            )
            return .failure(error)
        }
    }

    private static func metadata(
        _ resource: TemplateResource,
        key: String? = nil,
        error: (any Error)? = nil
    ) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "beacon.confd.resource": "\(resource.name)",
            "beacon.confd.dest": "\(resource.destination)",
        ]
        if let key { metadata["beacon.confd.key"] = "\(key)" }
        if let error { metadata["beacon.error"] = "\(error)" }
        return metadata
    }
}

/// The last snapshot each watch of a resource delivered.
private final class LatestSnapshots: Sendable {
    private let snapshots = Lock<[String: DiscoverySnapshot]>([:])

    var all: [String: DiscoverySnapshot] { self.snapshots.withLock { $0 } }

    func store(_ snapshot: DiscoverySnapshot, for key: String) {
        self.snapshots.withLock { $0[key] = snapshot }
    }
}

extension Result {
    /// The error of a failure; throws nothing and returns `nil` for a success. Used to pick failures from results.
    fileprivate func failureError() throws -> Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
