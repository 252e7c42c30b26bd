// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconPostgres
import Logging
import Testing

/// Connection failures that need no server: a refused port, a server that never answers, cancellation.
@Suite(.timeLimit(.minutes(1)))
struct PostgresConnectionTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a refused port gives connectionFailed with the endpoint and without the password")
    func refused() async throws {
        let closed = try Tarpit(listening: false)
        let parameters = PostgresParameters(
            endpoints: [Endpoint(host: "127.0.0.1", port: closed.port)],
            user: "app",
            password: "hunter22"
        )
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: parameters, logger: self.logger)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.endpoint == Endpoint(host: "127.0.0.1", port: closed.port))
        #expect(error.map { "\($0)" }?.contains("hunter22") == false)
        #expect(error.map { "\($0)" }?.contains("refused") == true)
    }

    @Test("a server that never answers times out after the connect timeout (Beacon's own deadline)")
    func timeout() async throws {
        let tarpit = try Tarpit()
        let parameters = PostgresParameters(
            endpoints: [Endpoint(host: "127.0.0.1", port: tarpit.port)],
            connectTimeout: .milliseconds(300)
        )
        let error = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect(to: parameters, logger: self.logger)
        }
        #expect(error?.code == .timedOut)
        #expect(error?.endpoint?.port == tarpit.port)
        // The half-open connection was closed (PQfinish), not leaked.
        #expect(tarpit.clientClosesPendingConnection())
    }

    @Test("cancelling a connect ends it at once with CancellationError")
    func cancellation() async throws {
        let tarpit = try Tarpit()
        let parameters = PostgresParameters(
            endpoints: [Endpoint(host: "127.0.0.1", port: tarpit.port)],
            connectTimeout: .seconds(50)
        )
        let task = Task { try await PostgresConnection.connect(to: parameters, logger: self.logger) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The half-open connection was closed (PQfinish), not leaked.
        #expect(tarpit.clientClosesPendingConnection())
    }

    @Test("many connects wait concurrently on the one poll thread")
    func concurrentWaits() async throws {
        let tarpit = try Tarpit()
        let parameters = PostgresParameters(
            endpoints: [Endpoint(host: "127.0.0.1", port: tarpit.port)],
            connectTimeout: .milliseconds(300)
        )
        // More waits than the cooperative pool has threads: they would deadlock if each blocked a thread.
        let codes = await withTaskGroup(of: PostgresError.Code?.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do {
                        _ = try await PostgresConnection.connect(to: parameters, logger: self.logger)
                        return nil
                    } catch {
                        return (error as? PostgresError)?.code
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes.count == 12)
        #expect(codes.allSatisfy { $0 == .timedOut })
    }
}
