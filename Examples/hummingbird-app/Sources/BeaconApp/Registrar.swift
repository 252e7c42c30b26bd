// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconEtcd
import BeaconMemcached
import Logging
import ServiceLifecycle

/// Registers the instance once it is ready, and drains it on shutdown.
///
/// It is the last service of the app's `ServiceGroup`, so it is the first to hear of a graceful shutdown (SIGTERM):
/// it deregisters at once (the key disappears from etcd, and clients watching the service prefix stop choosing this
/// instance), keeps the server serving for the drain delay, then returns; only then does the group shut the HTTP
/// server down, which stops accepting connections and finishes the requests in flight.
struct Registrar: Service {
    let registry: any ServiceRegistry
    let readiness: Readiness
    let state: AppState
    let logger: Logger

    func run() async throws {
        let configuration = state.configuration
        let instance = configuration.instance
        var metadata: Logger.Metadata = ["app.instance": "\(instance)"]

        // Wait until the container can give the cache and the database, or until shutdown.
        var lastReason: String?
        while true {
            guard let reason = await readiness.check() else { break }
            if reason != lastReason {
                logger.info("not ready yet", metadata: metadata.merging(["app.reason": "\(reason)"]) { $1 })
                lastReason = reason
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
        }
        state.becomeReady()

        // Register; retry while etcd cannot be reached.
        let registration: ServiceRegistration
        while true {
            do {
                registration = try await registry.register(instance, ttl: configuration.registrationTTL)
                break
            } catch {
                logger.info(
                    "registering failed; retrying",
                    metadata: metadata.merging(["app.error": "\(error)"]) { $1 }
                )
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                } catch {
                    return
                }
                if Task.isShuttingDownGracefully { return }
            }
        }
        state.registered()
        metadata["app.registration.ttl"] = "\(configuration.registrationTTL)"
        logger.info("ready and registered", metadata: metadata)

        // Serve until shutdown, then drain.
        try? await gracefulShutdown()
        state.beginDraining()
        await registration.cancel()
        logger.info(
            "deregistered; serving for the drain delay before the server stops",
            metadata: metadata.merging(["app.drain_delay": "\(configuration.drainDelay)"]) { $1 }
        )
        try? await Task.sleep(for: configuration.drainDelay)
        logger.info("drain delay over; the server stops accepting and finishes its requests", metadata: metadata)
    }
}

/// Records the memcached pool's servers whenever they change, for `/admin/state`.
struct PoolObserver: Service {
    let readiness: Readiness
    let state: AppState

    func run() async {
        await cancelWhenGracefulShutdown {
            while state.phase == .starting {
                try? await Task.sleep(for: .milliseconds(100))
                if Task.isCancelled { return }
            }
            guard let items = try? await readiness.container.get("app.items", as: ItemRepository.self) else { return }
            guard let pool = items.cache.pool as? DynamicMemcachedPool else {
                // Fixed wiring: the servers never change. Returning would end the group, so wait for shutdown.
                if let fixed = items.cache.pool as? MemcachedPool {
                    state.memcachedServers(fixed.servers.map(\.description), generation: 1)
                }
                try? await gracefulShutdown()
                return
            }
            while !Task.isCancelled {
                let count = pool.updateCount
                state.memcachedServers(
                    pool.currentPool?.servers.map(\.description) ?? [],
                    generation: pool.generation
                )
                await pool.waitForUpdate(after: count)
            }
        }
    }
}
