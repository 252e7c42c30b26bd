// SPDX-License-Identifier: Apache-2.0

import BeaconPostgres
import Testing

/// The query deadline's configuration and error, without a server.
@Suite
struct PostgresQueryTimeoutsTests {
    @Test("a connection's queries wait 30 seconds and a cancel 2 seconds by default; a negative grace is zero")
    func connectionDefaults() {
        let timeouts = PostgresConnection.QueryTimeouts()
        #expect(timeouts.timeout == .seconds(30))
        #expect(timeouts.cancelGracePeriod == .seconds(2))
        #expect(PostgresConnection.QueryTimeouts(timeout: nil).timeout == nil)
        #expect(PostgresConnection.QueryTimeouts(cancelGracePeriod: .seconds(-1)).cancelGracePeriod == .zero)
    }

    @Test("the pool's configuration has the same defaults, and keeps its earlier ones")
    func poolDefaults() {
        let configuration = PostgresConnectionPool.Configuration()
        #expect(configuration.queryTimeout == .seconds(30))
        #expect(configuration.cancelGracePeriod == .seconds(2))
        #expect(configuration.maxConnections == 10)
        #expect(configuration.validationInterval == .seconds(5))
        let custom = PostgresConnectionPool.Configuration(queryTimeout: nil, cancelGracePeriod: .milliseconds(500))
        #expect(custom.queryTimeout == nil)
        #expect(custom.cancelGracePeriod == .milliseconds(500))
    }

    @Test("queryTimedOut is a code of its own, named in the description")
    func errorCode() {
        let error = PostgresError(.queryTimedOut, "no result within 0.5 seconds")
        #expect(error.code != .timedOut)
        #expect(error.code.description == "queryTimedOut")
        #expect("\(error)" == "query timed out: no result within 0.5 seconds")
        #expect(error.cancelAnswered == nil)
    }
}
