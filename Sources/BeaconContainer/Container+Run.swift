// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Logging
public import ServiceLifecycle
import Synchronization

extension Container: Service {
    /// Runs what the container owns until graceful shutdown or cancellation, then closes what it built.
    ///
    /// While it runs, it:
    /// - consumes the change signals registered with ``ContainerBuilder/refresh(_:on:)``: each element
    ///   invalidates its service;
    /// - runs every built instance that is a swift-service-lifecycle `Service` (a discovery service, a pool that
    ///   follows its servers) as a child task, from the moment it is built: the container owns what it builds, so
    ///   do not also add such an instance to a `ServiceGroup`;
    /// - closes each instance replaced by a rebuild once its grace period is over and its scoped users are done
    ///   (see ``ClosableService``), and stops it if it runs as a service.
    ///
    /// It returns only on graceful shutdown or when its task is cancelled, never earlier, so it can be a service of
    /// a `ServiceGroup`. Before returning it stops the services it runs and closes every built or replaced
    /// ``ClosableService`` instance, each once its scoped users are done. Run it once per container.
    public func run() async {
        precondition(!isRunning.exchange(true, ordering: .relaxed), "Container.run() must be called only once")
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for signal in signals {
                    group.addTask {
                        await signal.consume { [self] in
                            self.invalidate(slot: signal.slot)
                        }
                    }
                }
                for await event in lifetimes.events {
                    switch event {
                    case .started(let id, let service, let stop):
                        group.addTask { await self.runService(service, id: id, until: stop) }
                    case .retired(let retired):
                        group.addTask { await self.closeWhenUnused(retired) }
                    }
                }
                group.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            self.lifetimes.finish()
        }
        await closeBuiltInstances()
    }

    private func runService(_ service: any Service, id: String, until stop: ChangeSignal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [logger] in
                do {
                    try await service.run()
                } catch is CancellationError {
                } catch {
                    logger.info(
                        "a service run by the container failed",
                        metadata: ["container.service": "\(id)", "container.error": "\(error)"]
                    )
                }
            }
            group.addTask { await stop.wait(after: 0) }
            await group.next()
            group.cancelAll()
        }
    }

    private func closeWhenUnused(_ retired: InstanceLifetimes.RetiredInstance) async {
        // A cancelled sleep (the container is stopping) ends the grace period early.
        try? await Task.sleep(until: retired.retiredAt + lifetimes.gracePeriod, clock: .continuous)
        if await lifetimes.close(retired.box) {
            logger.debug("replaced service closed", metadata: ["container.service": "\(retired.id)"])
        }
    }

    /// Closes every built instance, dependents before what they were built from (last slot first).
    private func closeBuiltInstances() async {
        for index in slots.indices.reversed() {
            guard let box = slots[index].built else { continue }
            if await lifetimes.close(box) {
                logger.debug("service closed", metadata: ["container.service": "\(definitions[index]?.id ?? "")"])
            }
        }
    }

    /// Lends the service `id` to a closure as a counted user: an instance replaced by a rebuild while the closure
    /// runs is not closed before the closure returns.
    ///
    /// Use it for work that must not meet a closed instance, such as a request handler's use of a pool. A plain
    /// `get` is covered only by ``ContainerBuilder/retiredInstanceGracePeriod``.
    ///
    /// - Parameters:
    ///   - id: The service id or alias.
    ///   - type: The service's type.
    ///   - body: The work; the service **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `get` throws, or what `body` throws.
    public func withService<T: Sendable, Result>(
        _ id: String,
        as type: T.Type = T.self,
        _ body: (T) async throws -> Result
    ) async throws -> Result {
        guard let slot = index.slot(of: id) else {
            throw serviceNotFound(id)
        }
        return try await withService(slot: slot, id: id, body)
    }

    /// Lends the service a typed key names to a closure as a counted user; see ``withService(_:as:_:)``.
    ///
    /// - Parameters:
    ///   - key: A key from ``ContainerBuilder/register(_:as:scope:factory:)``.
    ///   - body: The work; the service **must not** escape it.
    /// - Returns: What `body` returns.
    /// - Throws: What `get` throws, or what `body` throws.
    public func withService<T: Sendable, Result>(
        _ key: ServiceKey<T>,
        _ body: (T) async throws -> Result
    ) async throws -> Result {
        try await withService(slot: try slot(of: key.id, keySlot: key.slot, keyOwner: key.owner), id: key.id, body)
    }

    private func withService<T: Sendable, Result>(
        slot: Int,
        id: String,
        _ body: (T) async throws -> Result
    ) async throws -> Result {
        while true {
            let box = try await resolve(slot, path: ResolutionPath())
            // Refused only when the instance was replaced and is being closed: take the new one.
            guard lifetimes.beginUse(box) else { continue }
            defer { lifetimes.endUse(box) }
            return try await body(try Self.take(box, as: T.self, id: id))
        }
    }
}
