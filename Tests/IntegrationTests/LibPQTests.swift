// SPDX-License-Identifier: Apache-2.0

import CBeaconLibPQ
import Foundation
import Testing

/// libpq, called directly, against the PostgreSQL clusters of `scripts/servers`.
@Suite("libpq against PostgreSQL", .requiresServers, .timeLimit(.minutes(1)))
struct LibPQTests {
    /// Connects with keyword/value arrays (never an interpolated conninfo string).
    static func connect(_ parameters: [(String, String)]) -> OpaquePointer? {
        let keywords = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        return keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keywordPointers.baseAddress, valuePointers.baseAddress, 0)
            }
        }
    }

    static func selectOne(_ connection: OpaquePointer) throws -> String {
        let result = try #require(PQexec(connection, "SELECT 1"))
        defer { PQclear(result) }
        #expect(PQresultStatus(result) == PGRES_TUPLES_OK)
        return String(cString: PQgetvalue(result, 0, 0))
    }

    @Test("libpq reports its version and thread safety")
    func version() {
        #expect(PQlibVersion() >= 150_000)
        #expect(PQisthreadsafe() == 1)
    }

    @Test("SELECT 1 on the trust cluster")
    func trustCluster() async throws {
        let parameters = [
            ("host", try TestServers.value("BEACON_POSTGRES_A_HOST")),
            ("port", try TestServers.value("BEACON_POSTGRES_A_PORT")),
            ("user", "postgres"), ("dbname", "postgres"), ("connect_timeout", "5"),
        ]
        // The failover suite stops and restarts this cluster; while it is down, try again.
        var connection = try #require(Self.connect(parameters))
        for _ in 0..<300 where PQstatus(connection) != CONNECTION_OK {
            PQfinish(connection)
            try await Task.sleep(for: .milliseconds(100))
            connection = try #require(Self.connect(parameters))
        }
        defer { PQfinish(connection) }
        #expect(PQstatus(connection) == CONNECTION_OK, "\(String(cString: PQerrorMessage(connection)))")
        #expect(try Self.selectOne(connection) == "1")
    }

    @Test("SELECT 1 on the SCRAM cluster, and a wrong password is refused")
    func scramCluster() throws {
        let host = try TestServers.value("BEACON_POSTGRES_B_HOST")
        let port = try TestServers.value("BEACON_POSTGRES_B_PORT")
        let user = try TestServers.value("BEACON_POSTGRES_APP_USER")
        let password = try TestServers.value("BEACON_POSTGRES_APP_PASSWORD")
        let database = try TestServers.value("BEACON_POSTGRES_DATABASE")
        let base = [("host", host), ("port", port), ("user", user), ("dbname", database), ("connect_timeout", "5")]

        let connection = try #require(Self.connect(base + [("password", password)]))
        defer { PQfinish(connection) }
        #expect(PQstatus(connection) == CONNECTION_OK, "\(String(cString: PQerrorMessage(connection)))")
        #expect(try Self.selectOne(connection) == "1")

        let refused = try #require(Self.connect(base + [("password", "wrong-password")]))
        defer { PQfinish(refused) }
        #expect(PQstatus(refused) == CONNECTION_BAD)
        #expect(String(cString: PQerrorMessage(refused)).contains("password authentication failed"))
    }
}
