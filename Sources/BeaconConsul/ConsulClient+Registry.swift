// SPDX-License-Identifier: Apache-2.0

public import Beacon
import BeaconHTTP
import BeaconLocks
import Logging

extension ConsulClient: ServiceRegistry {
    /// Lists the instances of a service whose checks all pass (`/v1/health/service/<name>?passing`).
    ///
    /// An instance's endpoint is the service's address, or its node's when the service has none, and the service's
    /// port; its metadata is the service's `Meta`; a `Weights.Passing` other than 1 becomes the endpoint's weight.
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The instances, sorted by identifier; empty for an unknown service.
    /// - Throws: ``ConsulError``.
    public func instances(of service: String) async throws -> [ServiceInstance] {
        try await self.readInstances(of: service).instances
    }

    /// Reads the passing instances of a service, with what the answer says about itself.
    ///
    /// - Parameters:
    ///   - service: The service's name.
    ///   - index: For a blocking query, the index to wait beyond (at least 1); `nil` answers at once.
    ///   - wait: For a blocking query, how long the agent may wait for a change.
    /// - Returns: The instances sorted by identifier, and the answer's ``QueryMeta``.
    /// - Throws: ``ConsulError``.
    func readInstances(
        of service: String,
        index: UInt64? = nil,
        wait: Duration? = nil
    ) async throws -> (
        instances: [ServiceInstance], meta: QueryMeta
    ) {
        var request = ConsulRequest(
            operation: "health service",
            subject: service,
            method: "GET",
            path: "/v1/health/service/" + PercentEncoding.queryValue(service),
            query: [("passing", nil)],
            isRead: true
        )
        if let index, let wait { request.block(beyond: index, for: wait, margin: self.configuration.requestTimeout) }
        let (response, agent) = try await self.transport.send(request)
        let meta = QueryMeta(response, agent: agent)
        do {
            let instances = try JSONValue.parse(response.body).array("entries").map(Self.instance(from:))
            return (instances.sorted { $0.id < $1.id }, meta)
        } catch {
            throw ConsulError(
                .invalidResponse,
                "the answer is not Consul's health JSON: \(error)",
                operation: "health service",
                subject: service,
                target: agent
            )
        }
    }

    /// One entry of `/v1/health/service/<name>` as a ``ServiceInstance``.
    static func instance(from entry: JSONValue) throws(JSONError) -> ServiceInstance {
        let service = try (entry["Service"] ?? .null).object("Service")
        let node = entry["Node"]
        var host = ""
        if let address = service["Address"] { host = try address.string("Service.Address") }
        if host.isEmpty { host = try (node?["Address"] ?? .null).string("Node.Address") }
        var weight: Int?
        if let passing = service["Weights"]?["Passing"] { weight = try passing.int("Weights.Passing") }
        var metadata: [String: String] = [:]
        if case .object(let members) = service["Meta"] ?? .null {
            for member in members {
                if case .string(let value) = member.value { metadata[member.key] = value }
            }
        }
        return ServiceInstance(
            service: try (service["Service"] ?? .null).string("Service.Service"),
            id: try (service["ID"] ?? .null).string("Service.ID"),
            endpoint: Endpoint(
                host: host,
                // Consul leaves `Port` out when it is 0.
                port: try service["Port"].map { (port) throws(JSONError) in try port.int("Service.Port") } ?? 0,
                weight: weight == 1 ? nil : weight
            ),
            metadata: metadata
        )
    }

    /// Registers an instance as a service of the current agent, with a TTL check that ``run()`` passes every third of
    /// the TTL.
    ///
    /// The agent service's ID is the instance's id, its name the service, its address and port the endpoint's, its
    /// `Meta` the metadata and its `Weights.Passing` the endpoint's weight. The check starts passing, so the instance
    /// is listed at once, and carries ``Configuration/deregisterCriticalServiceAfter``.
    ///
    /// - The registration's keep-alive is a child task of ``run()``: it passes the check every third of the TTL. When
    ///   the agent has forgotten the check or the service (it restarted), and when the client has moved to another
    ///   agent (registrations belong to one agent), it registers again.
    /// - Should the process stop passing the check, the agent marks it critical after the TTL, so the instance leaves
    ///   ``instances(of:)``, and removes the service after ``Configuration/deregisterCriticalServiceAfter``.
    /// - `ServiceRegistration.cancel()` deregisters the service at once. When ``run()`` ends, it deregisters the
    ///   registrations still live.
    ///
    /// - Parameters:
    ///   - instance: The instance to announce.
    ///   - ttl: The check's TTL (at least one second).
    /// - Returns: The live registration.
    /// - Throws: `BeaconError` when the service name or id is not valid; ``ConsulError`` when the agent refuses the
    ///   registration, or with code ``ConsulError/Code/closed`` once ``run()`` has ended or the client is closed.
    public func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        try instance.validate()
        guard self.lifecycle.isAccepting else {
            throw ConsulError(
                .closed,
                "the client no longer accepts registrations",
                operation: "agent service register",
                subject: instance.service
            )
        }
        let keeper = ServiceKeeper(client: self, instance: instance, ttl: max(ttl, .seconds(1)))
        try await keeper.registerAtCurrentAgent(ignoringCancellation: false)
        guard self.lifecycle.add(keeper) else {
            await keeper.release()
            throw ConsulError(
                .closed,
                "the client no longer accepts registrations",
                operation: "agent service register",
                subject: instance.service
            )
        }
        return ServiceRegistration(instance: instance) { await keeper.withdraw() }
    }

    /// Registers a group of instances as agent services that share one lifetime: registered together, kept alive by
    /// one child task of ``run()``, and deregistered together.
    ///
    /// Consul has no lease to share: a TTL check belongs to one service (a check without a service would be the
    /// node's, and would fail every service of the agent), so each instance is an agent service with its own TTL
    /// check, as with ``register(_:ttl:)``, and the keep-alive passes each check every third of the TTL: the
    /// requests grow with the group. What is shared is the lifetime: the services are registered one after the
    /// other before this method returns (should one fail, those already registered are deregistered, and the error
    /// names the instance); `GroupRegistration.cancel()` deregisters them all; the end of ``run()`` does too. Each
    /// service is registered again on its own when the agent forgets it.
    ///
    /// - Parameters:
    ///   - instances: The instances to announce; at least one, each service and identifier at most once.
    ///   - ttl: Each check's TTL (at least one second).
    /// - Returns: The live group registration.
    /// - Throws: `BeaconError` from `GroupRegistration.validate(_:)` naming the instance; ``ConsulError`` naming the
    ///   instance the agent refused, or with code ``ConsulError/Code/closed`` once ``run()`` has ended or the client
    ///   is closed.
    public func register(group instances: [ServiceInstance], ttl: Duration) async throws -> GroupRegistration {
        try GroupRegistration.validate(instances)
        func closed() -> ConsulError {
            ConsulError(
                .closed,
                "the client no longer accepts registrations",
                operation: "agent service register",
                subject: instances[0].service
            )
        }
        guard self.lifecycle.isAccepting else { throw closed() }
        var keepers: [ServiceKeeper] = []
        keepers.reserveCapacity(instances.count)
        for instance in instances {
            let keeper = ServiceKeeper(client: self, instance: instance, ttl: max(ttl, .seconds(1)))
            do {
                try await keeper.registerAtCurrentAgent(ignoringCancellation: false)
            } catch var error as ConsulError {
                await KeptAliveGroup.release(keepers)
                error.message = "registering \(instance.service)/\(instance.id) of a group: \(error.message)"
                throw error
            } catch {
                await KeptAliveGroup.release(keepers)
                throw error
            }
            keepers.append(keeper)
        }
        let group = KeptAliveGroup(members: keepers, lifecycle: self.lifecycle)
        guard self.lifecycle.add(group) else {
            await group.release()
            throw closed()
        }
        return GroupRegistration(instances: instances) { await group.withdraw() }
    }
}

/// One registration: an agent service with a TTL check, passed by a child task of ``ConsulClient/run()``, registered
/// again when the agent forgot it or the client moved to another agent, and deregistered once.
final class ServiceKeeper: KeptAliveRegistration {
    let keepAliveState = KeepAliveState()
    private let client: ConsulClient
    private let instance: ServiceInstance
    private let ttl: Duration
    /// The agent that holds the registration.
    private let agent = Lock<String?>(nil)
    /// When the service was last registered, which starts its check passing.
    private let registeredAt = Lock<ContinuousClock.Instant>(.now)

    init(client: ConsulClient, instance: ServiceInstance, ttl: Duration) {
        self.client = client
        self.instance = instance
        self.ttl = ttl
    }

    /// The TTL check's ID.
    var checkID: String { "service:\(self.instance.id):ttl" }

    /// The agent's registration body.
    var body: [UInt8] {
        var writer = JSONWriter()
        writer.object { json in
            json.string("ID", self.instance.id)
            json.string("Name", self.instance.service)
            json.string("Address", self.instance.endpoint.host)
            json.number("Port", self.instance.endpoint.port)
            json.stringMap("Meta", self.instance.metadata.isEmpty ? nil : self.instance.metadata)
            if let weight = self.instance.endpoint.weight {
                json.object("Weights") { weights in
                    weights.number("Passing", weight)
                    weights.number("Warning", 1)
                }
            }
            json.object("Check") { check in
                check.string("CheckID", self.checkID)
                check.string("Name", "Beacon TTL for \(self.instance.id)")
                check.string("TTL", self.ttl.goDuration)
                check.string("Status", "passing")
                check.string(
                    "DeregisterCriticalServiceAfter",
                    self.client.configuration.deregisterCriticalServiceAfter.goDuration
                )
            }
        }
        return writer.bytes
    }

    /// Registers the service with the agent the client talks to now.
    func registerAtCurrentAgent(ignoringCancellation: Bool) async throws {
        let (_, agent) = try await self.client.transport.send(
            ConsulRequest(
                operation: "agent service register",
                subject: self.instance.service,
                method: "PUT",
                path: "/v1/agent/service/register",
                query: [("replace-existing-checks", nil)],
                body: self.body,
                ignoringCancellation: ignoringCancellation
            )
        )
        self.agent.withLock { $0 = agent }
        self.registeredAt.withLock { $0 = .now }
        self.client.logger.debug(
            "Registered with the Consul agent",
            metadata: ["beacon.consul.service": "\(self.instance)", "beacon.consul.agent": "\(agent)"]
        )
    }

    /// Passes the check every third of the TTL until cancelled, the first time a third of the TTL after the
    /// registration (see ``RenewalSchedule``); registers again when needed.
    func renew() async {
        var schedule = RenewalSchedule(ttl: self.ttl, registeredAt: self.registeredAt.withLock { $0 })
        while !Task.isCancelled {
            do {
                try await schedule.waitUntilDue()
                if self.agent.withLock({ $0 }) != self.client.transport.currentAgent {
                    self.client.logger.info(
                        "The Consul client moved to another agent; registering there",
                        metadata: ["beacon.consul.service": "\(self.instance)"]
                    )
                    try await self.registerAtCurrentAgent(ignoringCancellation: true)
                    continue
                }
                try await self.pass()
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                self.client.logger.info(
                    "Passing a registration's TTL check failed; retrying",
                    metadata: ["beacon.consul.service": "\(self.instance)", "beacon.error": "\(error)"]
                )
            }
        }
    }

    /// Passes the TTL check; registers again when the agent no longer knows it.
    private func pass() async throws {
        do {
            let (response, _) = try await self.client.transport.send(
                ConsulRequest(
                    operation: "agent check pass",
                    subject: self.instance.service,
                    method: "PUT",
                    path: "/v1/agent/check/pass/" + PercentEncoding.queryValue(self.checkID)
                )
            )
            if response.status == 404 { throw ForgottenCheck() }
        } catch let error as ConsulError where error.code == .server && error.status == 500 {
            // `CheckID "..." does not have associated TTL`: the agent restarted and forgot the registration.
            try await self.registerAgainAfterForgetting(error.message)
        } catch is ForgottenCheck {
            try await self.registerAgainAfterForgetting("the check is unknown (404)")
        }
    }

    private func registerAgainAfterForgetting(_ reason: String) async throws {
        self.client.logger.info(
            "The Consul agent forgot a registration; registering again",
            metadata: ["beacon.consul.service": "\(self.instance)", "beacon.consul.reason": "\(reason)"]
        )
        try await self.registerAtCurrentAgent(ignoringCancellation: true)
    }

    private struct ForgottenCheck: Error {}

    /// Deregisters the service at the agent that holds it (even if the calling task is cancelled) and forgets it.
    func release() async {
        if let agent = self.agent.withLock({ $0 }) {
            do {
                _ = try await self.client.transport.send(
                    ConsulRequest(
                        operation: "agent service deregister",
                        subject: self.instance.service,
                        method: "PUT",
                        path: "/v1/agent/service/deregister/" + PercentEncoding.queryValue(self.instance.id),
                        ignoringCancellation: true,
                        agent: agent
                    )
                )
                self.client.logger.debug("Deregistered", metadata: ["beacon.consul.service": "\(self.instance)"])
            } catch {
                self.client.logger.debug(
                    "Deregistering failed; the agent removes the service once its check has been critical long enough",
                    metadata: ["beacon.consul.service": "\(self.instance)", "beacon.error": "\(error)"]
                )
            }
        }
        self.client.lifecycle.remove(self)
    }
}

extension ConsulClient {
    /// Follows the passing instances of a service with blocking queries on `/v1/health/service/<name>?passing`.
    ///
    /// The same index rules as ``watch(prefix:)``; a list is emitted only when it differs from the one before (Consul's
    /// index for a service also moves with changes elsewhere in the catalog).
    ///
    /// - Parameter service: The service's name.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watchInstances(of service: String) -> ServiceInstanceWatch {
        ServiceInstanceWatch { [self] in
            let query = BlockingQuery<[ServiceInstance]>(
                wait: self.configuration.watchWait,
                subject: service,
                logger: self.logger
            ) { index, wait in
                let answer = try await self.readInstances(of: service, index: index, wait: index == nil ? nil : wait)
                return (answer.instances, answer.meta)
            }
            return { try await query.next() }
        }
    }
}
