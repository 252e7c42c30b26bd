// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import ExpressionCorpusSupport
import Testing

@Suite("YAML definitions")
struct YAMLTests {
    static let factories = ["Mailer", "RequestID", "DynamicConfiguration", "MemcacheSessionHandler", "Handler"]

    static func container(environment: [String: String] = ["MEMCACHED_PORT": "11211"]) throws -> Container {
        var builder = ContainerBuilder(environment: environment)
        builder.registerRecordingFactories(factories)
        try builder.loadYAML(file: try YAMLFixtures.path("services.yaml"))
        return try builder.build()
    }

    @Test("parameters, imports, escapes, optional services and aliases")
    func definitions() async throws {
        let container = try Self.container()
        #expect(try container.parameter("greeting") == "demo says 100% hello")
        #expect(try container.parameter("memcached.port") == .int(11211))
        #expect(try container.parameter("memcached.server") == "10.0.0.1:11211")
        let mailer = try await container.get("mailer", as: Recorded.self)
        #expect(mailer.arguments == ["demo", "@not-a-service", nil])
        #expect(try await container.get("app.mailer", as: Recorded.self) === mailer)
        #expect(try await container.get("cache.mailer", as: Recorded.self) === mailer)
    }

    @Test("shared: false builds on every get")
    func transient() async throws {
        let container = try Self.container()
        let first = try await container.get("request.id", as: Recorded.self)
        #expect(try await container.get("request.id", as: Recorded.self) !== first)
    }

    @Test("an @= argument is evaluated with service(), against an imported definition")
    func expressionArgument() async throws {
        let container = try Self.container()
        let handler = try await container.get("session.handler.memcache", as: Recorded.self)
        #expect(handler.arguments == ["memcached:/services/memcached/", 3600])
        #expect(container.constructionCount(of: "myapp.dynamic.configuration") == 1)
    }

    @Test("expressions use service(), parameter(), env() and the container variable")
    func expressionFunctions() async throws {
        var builder = ContainerBuilder(environment: ["APP_ENV": "prod", "PORT": "11211"])
        builder.registerRecordingFactories(["Probe", "Conf"])
        try builder.loadYAML(
            """
            parameters:
              app.name: demo
            services:
              conf:
                class: Conf
                arguments: ['10.0.0.1']
              probe:
                class: Probe
                arguments:
                  - '@=service("conf").getMemcached()'
                  - '@=parameter("app.name") ~ "-" ~ env("APP_ENV")'
                  - '@=env("PORT") + 1'
                  - '@=container.has("conf") and container.hasParameter("app.name")'
                  - '@=container.get("conf") === service("conf")'
            """,
            file: "inline.yaml"
        )
        let probe = try await builder.build().get("probe", as: Recorded.self)
        #expect(probe.arguments == ["memcached:10.0.0.1", "demo-prod", 11212, true, true])
    }

    @Test(
        "%env()% processors",
        arguments: [
            ("%env(PORT)%", ExpressionValue.string("11211")),
            ("%env(int:PORT)%", .int(11211)),
            ("%env(float:RATIO)%", .float(0.5)),
            ("%env(bool:FLAG)%", .bool(true)),
            ("%env(bool:OFF)%", .bool(false)),
            ("%env(json:LIST)%", .list([1, 2, 3])),
            ("%env(csv:HOSTS)%", .list(["a", "b c", "d,e"])),
            ("host:%env(PORT)%", .string("host:11211")),
        ]
    )
    func environmentProcessors(placeholder: String, expected: ExpressionValue) async throws {
        var builder = ContainerBuilder(environment: [
            "PORT": "11211", "RATIO": "0.5", "FLAG": "true", "OFF": "0", "LIST": "[1,2,3]",
            "HOSTS": "a,b c,\"d,e\"",
        ])
        builder.setParameter("value", .string(placeholder))
        #expect(try builder.build().parameter("value") == expected)
    }

    @Test(
        "%env(json:NAME)%: ints, floats, booleans, null, strings, lists and key-sorted arrays, as json_decode gives",
        arguments: [
            (
                #"[1, -2, 2.5, 1e2, 1E2, -0, true, false, null, "x"]"#,
                [1, -2, 2.5, 100.0, 100.0, 0, true, false, nil, "x"]
            ),
            (#"{"b": [], "a": {"2": 1}, "b": "last"}"#, ["a": ["2": 1], "b": "last"]),
            ("[9223372036854775807, -9223372036854775809]", [.int(Int.max), .float(-9.223372036854775807e18)]),
            (
                "[18446744073709551615, 18446744073709551616]",
                [.float(1.8446744073709552e19), .float(1.8446744073709552e19)]
            ),
            (" null ", nil),
        ] as [(String, ExpressionValue)]
    )
    func environmentJSON(json: String, expected: ExpressionValue) throws {
        var builder = ContainerBuilder(environment: ["JSON": json])
        builder.setParameter("value", "%env(json:JSON)%")
        #expect(try builder.build().parameter("value") == expected)
    }

    @Test(
        "%env(json:NAME)% refuses malformed JSON, a float beyond range and a scalar",
        arguments: ["[1,]", "[1e400]", "1", "\"x\""]
    )
    func environmentJSONErrors(json: String) throws {
        var builder = ContainerBuilder(environment: ["JSON": json])
        builder.setParameter("value", "%env(json:JSON)%")
        let error = #expect(throws: ContainerError.self) { try builder.build().parameter("value") }
        #expect(error?.message.hasPrefix("Invalid JSON") == true)
    }

    @Test("environment errors name the variable, never its value")
    func environmentErrors() throws {
        var builder = ContainerBuilder(environment: ["SECRET": "hunter2", "BROKEN": "{hunter2"])
        builder.setParameter("port", "%env(int:SECRET)%")
        builder.setParameter("list", "%env(json:BROKEN)%")
        builder.setParameter("missing", "%env(NOPE)%")
        let container = try builder.build()
        let notNumeric = #expect(throws: ContainerError.self) { try container.parameter("port") }
        #expect(notNumeric?.message == "Non-numeric env var \"SECRET\" cannot be cast to int.")
        let notJSON = #expect(throws: ContainerError.self) { try container.parameter("list") }
        #expect(notJSON?.message == "Invalid JSON in env var \"BROKEN\": Syntax error")
        let missing = #expect(throws: ContainerError.self) { try container.parameter("missing") }
        #expect(missing?.code == .environmentNotFound)
        #expect(missing?.message == "Environment variable not found: \"NOPE\".")
        for error in [notNumeric, notJSON, missing] {
            #expect(error?.message.contains("hunter2") == false)
        }
    }

    @Test("a parameter used inside a string must be a string or a number")
    func stringComposition() async throws {
        var builder = ContainerBuilder()
        builder.setParameter("secret.list", ["a", "b"])
        builder.setParameter("url", "redis://%secret.list%/0")
        let container = try builder.build()
        let error = #expect(throws: ContainerError.self) { try container.parameter("url") }
        #expect(
            error?.message
                == "A string value must be composed of strings and/or numbers, but found parameter \"secret.list\" "
                + "of type array inside string value \"redis://%secret.list%/0\"."
        )
    }
}

@Suite("Unquoted %parameters% in YAML")
struct LegacyPercentScalarTests {
    @Test("Symfony 2's unquoted %parameters% load as quoted ones; text, comments and block scalars stay")
    func unquoted() async throws {
        var builder = ContainerBuilder()
        builder.setParameter("endpoint", "etcd://127.0.0.1:2379")
        builder.setParameter("cache_dir", "/var/cache")
        builder.registerFactory("Pair") { arguments in
            Pool(servers: try arguments.string(0) + "|" + (try arguments.string(1)))
        }
        try builder.loadYAML(
            """
            parameters:
                note: |
                    %not a parameter%: kept as text
                ratio: 100%   # a comment with %x%
            services:
                flow:
                    class: Pair
                    arguments: [%endpoint%, %cache_dir%]
                block:
                    class: Pair
                    arguments:
                        - %endpoint%
                        - '%cache_dir%'
                mapping:
                    class: Pair
                    arguments: [ %endpoint% , "%ratio%" ]   # spaces around
            """
        )
        let container = try builder.build()
        #expect(try await container.get("flow", as: Pool.self).servers == "etcd://127.0.0.1:2379|/var/cache")
        #expect(try await container.get("block", as: Pool.self).servers == "etcd://127.0.0.1:2379|/var/cache")
        #expect(try await container.get("mapping", as: Pool.self).servers == "etcd://127.0.0.1:2379|100%")
        #expect(try container.parameter("note") == .string("%not a parameter%: kept as text\n"))
    }
}
