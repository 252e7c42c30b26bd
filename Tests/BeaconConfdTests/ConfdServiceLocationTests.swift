// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConfd
import BeaconTesting
import Foundation
import Logging
import ServiceRunChecks
import Testing

/// Resources that name services (`keys = ["service:web"]`): the template receives the instances the source lists as
/// a registry, and re-renders when they change.
@Suite("Resources that name services")
struct ConfdServiceLocationTests {
    let directory: TemporaryDirectory

    init() throws {
        self.directory = try TemporaryDirectory()
    }

    static let template = """
        # {{app.name}}
        {{#instances(services.web)}}
        server {{address}}; # {{id}} in {{metadata.zone}}
        {{/instances(services.web)}}

        """

    static func web(_ id: String, port: Int, zone: String) -> ServiceInstance {
        ServiceInstance(
            service: "web",
            id: id,
            endpoint: Endpoint(host: "10.0.0.\(port % 100)", port: port),
            metadata: ["zone": zone]
        )
    }

    func resource() throws -> TemplateResource {
        TemplateResource(
            name: "web.toml",
            source: try self.directory.write("templates/web.tmpl", Self.template),
            destination: self.directory.path + "/web.conf",
            keys: ["/app", "service:web"],
            prefix: "/production"
        )
    }

    @Test("keys entries service:<name> are services, left out of the full keys; a malformed one names the file")
    func loading() throws {
        let text = """
            [template]
            src = "web.tmpl"
            dest = "/etc/web.conf"
            keys = ["/app", "service:web", "service:cache"]
            prefix = "/production"
            """
        let resource = try TemplateResource(parsing: text, path: "web.toml", templateDirectory: "/t")
        #expect(resource.services == ["web", "cache"])
        #expect(resource.fullKeys(globalPrefix: "") == ["/production/app"])
        for bad in ["service:", "service:a/b"] {
            let error = #expect(throws: ConfdError.self) {
                try TemplateResource(
                    parsing: text.replacingOccurrences(of: "service:cache", with: bad),
                    path: "web.toml",
                    templateDirectory: "/t"
                )
            }
            #expect(error?.code == .malformedResource)
            #expect(error?.file == "web.toml" && error?.line == 4)
            #expect(error?.message.contains("names no service") == true)
        }
    }

    @Test("TemplateData places instances at /services/<name>/<id>, whatever the prefix")
    func templateData() throws {
        let data = TemplateData(
            entries: [KeyValue(key: "/production/app/name", string: "shop")],
            prefix: "/production",
            instances: [Self.web("b", port: 8082, zone: "eu-2"), Self.web("a", port: 8081, zone: "eu-1")]
        )
        let template = try ConfdTemplate(text: Self.template, path: "web.tmpl")
        #expect(
            try template.render(data) == """
                # shop
                server 10.0.0.81:8081; # a in eu-1
                server 10.0.0.82:8082; # b in eu-2

                """
        )
    }

    @Test("onetime renders a service's registered instances beside the keys")
    func onetime() async throws {
        let registry = StaticSource(["/production/app/name": "shop"])
        _ = try await registry.register(Self.web("w1", port: 8081, zone: "eu-1"), ttl: .seconds(10))
        let confd = try Confd(
            resources: [self.resource()],
            source: registry,
            configuration: .init(mode: .onetime),
            logger: Logger(label: "test")
        )
        try await confd.run()
        #expect(self.directory.read("web.conf") == "# shop\nserver 10.0.0.81:8081; # w1 in eu-1\n")
    }

    @Test("watch re-renders when an instance registers or leaves")
    func watch() async throws {
        let registry = StaticSource(["/production/app/name": "shop"])
        let first = try await registry.register(Self.web("w1", port: 8081, zone: "eu-1"), ttl: .seconds(10))
        let confd = try Confd(
            resources: [self.resource()],
            source: registry,
            configuration: .init(mode: .watch, retryDelay: .milliseconds(20)),
            logger: Logger(label: "test")
        )
        let directory = self.directory
        try await ServiceRunChecks.expectRunsUntil(.gracefulShutdown, confd) { () async throws in
            #expect(
                try await eventually { directory.read("web.conf") == "# shop\nserver 10.0.0.81:8081; # w1 in eu-1\n" }
            )
            let second = try await registry.register(Self.web("w2", port: 8082, zone: "eu-2"), ttl: .seconds(10))
            #expect(
                try await eventually {
                    directory.read("web.conf")
                        == "# shop\nserver 10.0.0.81:8081; # w1 in eu-1\nserver 10.0.0.82:8082; # w2 in eu-2\n"
                }
            )
            await first.cancel()
            #expect(
                try await eventually { directory.read("web.conf") == "# shop\nserver 10.0.0.82:8082; # w2 in eu-2\n" }
            )
            await second.cancel()
            #expect(try await eventually { directory.read("web.conf") == "# shop\n" })
        }
    }

    @Test("a resource that names a service on a source that is not a registry is refused when Confd is made")
    func notARegistry() throws {
        let error = #expect(throws: ConfdError.self) {
            try Confd(
                resources: [self.resource()],
                source: EnvironmentSource(environment: [:]),
                logger: Logger(label: "test")
            )
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.file == "web.toml")
        #expect(error?.message.contains("reads service:web, but the source is not a service registry") == true)
    }
}
