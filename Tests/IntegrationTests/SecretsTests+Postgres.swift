// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconPostgres
import Foundation
import Testing

extension SecretsTests {
    /// A `postgres://` URI for the `beacon` database on cluster B, as role `beacon`.
    static func postgresURI(password: String) throws -> String {
        let host = try TestServers.value("BEACON_POSTGRES_B_HOST")
        let port = try TestServers.value("BEACON_POSTGRES_B_PORT")
        let user = try TestServers.value("BEACON_POSTGRES_APP_USER")
        let database = try TestServers.value("BEACON_POSTGRES_DATABASE")
        return "postgres://\(user):\(password)@\(host):\(port)/\(database)?connect_timeout=5"
    }

    @Test("PostgreSQL: passwords in discovered JSON and postgres:// URIs, wrong (SCRAM failure) and right, malformed")
    func postgres() async throws {
        let capture = SecretsCapture()
        let right = PlantedSecret(
            name: "PostgreSQL password",
            value: try TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
        )
        let wrong = Self.plant("wrong PostgreSQL password")
        let override = Self.plant("PostgreSQL password in overrides")
        let malformed = Self.plant("PostgreSQL password in a malformed value")
        let retry = PostgresRetryPolicy(initialBackoff: .milliseconds(5), maximumBackoff: .milliseconds(20))

        // Through a factory and a pool, the JSON and the URI forms, wrong then right.
        let values = [
            ("JSON", try PostgresServers.value(cluster: "B", password: wrong.value), false),
            ("URI", try Self.postgresURI(password: wrong.value), false),
            ("JSON", try PostgresServers.value(cluster: "B"), true),
            ("URI", try Self.postgresURI(password: right.value), true),
        ]
        for (form, value, works) in values {
            let factory = PostgresConnectionFactory(
                source: CachingSource(
                    StaticSource(["/db/main": value]),
                    logger: capture.logger,
                    metricsFactory: capture.metrics
                ),
                location: .key("/db/main"),
                retryPolicy: retry,
                logger: capture.logger,
                metricsFactory: capture.metrics
            )
            let parameters = try await factory.currentParameters()
            capture.record(value: parameters, from: "PostgresParameters (\(form))")
            let pool = PostgresConnectionPool(factory: factory, logger: capture.logger)
            let failed = await capture.recordError(from: "PostgresError (\(form), \(works ? "right" : "wrong"))") {
                _ = try await pool.withConnection { try await $0.query("SELECT 1") }
            }
            #expect(failed == !works)
            if works {
                await capture.recordError(from: "PostgresError (\(form), a failing query)") {
                    _ = try await pool.withConnection { try await $0.query("SELECT $1::int", [.text("x")]) }
                }
            }
            pool.close()
        }

        // Directly, with overrides carrying the password.
        let overrides = PostgresConnectionFactory.Overrides(password: override.value)
        capture.record(value: overrides, from: "PostgresConnectionFactory.Overrides")
        let parsed = try PostgresParameters(
            parsing: KeyValue(key: "/db/main", string: try Self.postgresURI(password: ""))
        )
        await capture.recordError(from: "PostgresError (overridden password)") {
            let connection = try await PostgresConnection.connect(
                to: overrides.applied(to: parsed),
                logger: capture.logger
            )
            connection.close()
        }

        // Malformed values that carry a password.
        let host = try TestServers.value("BEACON_POSTGRES_B_HOST")
        let broken = [
            #"{"host": "\#(host)", "port": "not-a-port", "password": "\#(malformed.value)"}"#,
            #"{"host": "\#(host)", "password": "\#(malformed.value)", "colour": "blue"}"#,
            #"{"host": "\#(host)", "password": \#(malformed.value)}"#,
            #"{"password": "\#(malformed.value)"}"#,
            "postgres://beacon:\(malformed.value)@\(host):not-a-port/beacon",
            "postgres://beacon:\(malformed.value)@\(host)/beacon?sslmode=sometimes",
            "postgres://beacon:\(malformed.value)@/beacon",
            "postgresql://beacon:\(malformed.value)@\(host)/beacon?colour=blue",
            "mysql://beacon:\(malformed.value)@\(host)/beacon",
        ]
        for value in broken {
            #expect(
                await capture.recordError(from: "PostgresError (malformed value)") {
                    _ = try PostgresParameters(parsing: KeyValue(key: "/db/main", string: value))
                }
            )
        }
        #expect(
            await capture.recordError(from: "PostgresError (malformed value in separate keys)") {
                _ = try PostgresParameters(
                    entries: [
                        KeyValue(key: "/db/host", string: host), KeyValue(key: "/db/port", string: "x"),
                        KeyValue(key: "/db/password", string: malformed.value),
                    ],
                    prefix: "/db/"
                )
            }
        )
        capture.expectNoSecrets([right, wrong, override, malformed])
    }
}
