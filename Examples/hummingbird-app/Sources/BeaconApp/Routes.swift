// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import ExampleSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The HTTP API.
///
/// | Route | What it does |
/// | --- | --- |
/// | `GET /items/{id}` | the item from memcached, else from PostgreSQL (then cached); `x-cache: hit` or `miss` |
/// | `PUT /items/{id}` | stores the body as the item's value in PostgreSQL and deletes its cached copy |
/// | `POST /items` | creates an item with the body as its value |
/// | `GET /health` | 200 when ready, 503 while starting or draining |
/// | `GET /admin/state` | the instance, its phase, its memcached servers and its database server, as JSON |
/// | `GET /metrics` | the metrics, in Prometheus's text format |
///
/// Every response carries `x-instance: <id>`.
struct Routes: Sendable {
    let container: Container
    let state: AppState
    let registry: PrometheusCollectorRegistry
    let logger: Logger

    static let instanceHeader = HTTPField.Name("x-instance")!
    static let cacheHeader = HTTPField.Name("x-cache")!

    func add(to router: Router<BasicRequestContext>) {
        router.get("/items/{id}") { _, context in
            let id = try context.parameters.require("id", as: Int.self)
            return await respond {
                try await container.withService("app.items", as: ItemRepository.self) { items in
                    guard let (json, source) = try await items.read(id) else {
                        return json(.notFound, ["error": "no item \(id)"])
                    }
                    var response = Response(status: .ok, headers: [.contentType: "application/json"], body: body(json))
                    response.headers[Self.cacheHeader] = source.rawValue
                    return response
                }
            }
        }
        router.put("/items/{id}") { request, context in
            let id = try context.parameters.require("id", as: Int.self)
            let value = String(buffer: try await request.body.collect(upTo: 64 * 1024))
            return await respond {
                try await container.withService("app.items", as: ItemRepository.self) { items in
                    let json = try await items.write(id, value: value)
                    return Response(status: .ok, headers: [.contentType: "application/json"], body: body(json))
                }
            }
        }
        router.post("/items") { request, _ in
            let value = String(buffer: try await request.body.collect(upTo: 64 * 1024))
            return await respond {
                try await container.withService("app.items", as: ItemRepository.self) { items in
                    let json = try await items.create(value: value)
                    return Response(status: .created, headers: [.contentType: "application/json"], body: body(json))
                }
            }
        }
        router.get("/health") { _, _ in
            let phase = state.phase
            return json(phase == .ready ? .ok : .serviceUnavailable, ["status": phase.rawValue])
        }
        router.get("/admin/state") { _, _ in
            await adminState()
        }
        router.get("/metrics") { _, _ in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: body(bytes)
            )
        }
    }

    /// Runs a handler; an error it throws (database unreachable, memcached and database both failing) becomes a 503
    /// naming the error.
    private func respond(_ handler: () async throws -> Response) async -> Response {
        var response: Response
        do {
            response = try await handler()
        } catch {
            logger.info("request failed", metadata: ["app.error": "\(error)"])
            response = json(.serviceUnavailable, ["error": "\(error)"])
        }
        response.headers[Self.instanceHeader] = state.configuration.instanceID
        return response
    }

    private func adminState() async -> Response {
        struct Body: Encodable {
            struct Memcached: Encodable {
                var servers: [String]
                var generation: Int
                var changedAt: Double?
            }
            struct Database: Encodable {
                var location: String
                var server: String?
                var serverSince: Double?
            }
            var id: String
            var service: String
            var endpoint: String
            var phase: String
            var registeredAt: Double?
            var deregisteredAt: Double?
            var memcached: Memcached
            var database: Database
        }
        let snapshot = state.snapshot
        let configuration = state.configuration
        // With fixed wiring (services-fixed.yaml), the database is an endpoint, not a location.
        let location =
            ((try? container.parameter("database_location")) ?? (try? container.parameter("database_endpoint")))
            .map { "\($0)" } ?? ""
        var database = Body.Database(location: location)
        // Only once ready: before that, resolving the items would wait for discovery.
        let items = snapshot.phase == .starting ? nil : try? await container.get("app.items", as: ItemRepository.self)
        if let server = items?.store.currentServer {
            database.server = server.endpoint
            database.serverSince = server.since
        }
        let value = Body(
            id: configuration.instanceID,
            service: configuration.serviceName,
            endpoint: configuration.instance.endpoint.description,
            phase: snapshot.phase.rawValue,
            registeredAt: snapshot.registeredAt,
            deregisteredAt: snapshot.deregisteredAt,
            memcached: Body.Memcached(
                servers: snapshot.memcachedServers,
                generation: snapshot.memcachedGeneration,
                changedAt: snapshot.memcachedChangedAt
            ),
            database: database
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(value)).map { Array($0) } ?? []
        var response = Response(status: .ok, headers: [.contentType: "application/json"], body: body(bytes))
        response.headers[Self.instanceHeader] = configuration.instanceID
        return response
    }

    private func json(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        var fields = fields
        fields["instance"] = state.configuration.instanceID
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(fields)).map { Array($0) } ?? []
        var response = Response(status: status, headers: [.contentType: "application/json"], body: body(bytes))
        response.headers[Self.instanceHeader] = state.configuration.instanceID
        return response
    }

    private func body(_ bytes: [UInt8]) -> ResponseBody {
        ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
    }
}
