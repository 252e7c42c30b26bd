// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconPostgres
import Testing

/// The examples of Documentation/Postgres.md that need no server.
@Suite(.timeLimit(.minutes(1)))
struct PostgresGuideTests {
    @Test("formats: the JSON example")
    func jsonExample() throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(
                key: "/db/main",
                string: """
                    {"host": "10.0.0.5", "port": 5432, "database": "app", "user": "app", "password": "s3cret",
                     "sslmode": "require", "connect_timeout": 5, "application_name": "billing", "target_session_attrs": "read-write"}
                    """
            )
        )
        #expect(
            "\(parameters)"
                == "postgresql://app:***@10.0.0.5:5432/app?sslmode=require&connect_timeout=5"
                + "&application_name=billing&target_session_attrs=read-write"
        )
    }

    @Test("formats: the URI example")
    func uriExample() throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(
                key: "/db/main",
                string: "postgresql://app:s3cret@10.0.0.5:5432,10.0.0.6:5432/app?sslmode=require"
                    + "&target_session_attrs=read-write"
            )
        )
        #expect(parameters.endpoints.map(\.description) == ["10.0.0.5:5432", "10.0.0.6:5432"])
        #expect(parameters.password == "s3cret")
        #expect(parameters.targetSessionAttributes == .readWrite)
        #expect(
            try PostgresParameters(parsing: KeyValue(key: "/db", string: "postgres://u:p%40ss@h/d")).password == "p@ss"
        )
    }

    @Test("formats: the separate keys example")
    func prefixExample() throws {
        let parameters = try PostgresParameters(
            entries: [
                KeyValue(key: "/db/main/host", string: "10.0.0.5:5432,10.0.0.6:5432"),
                KeyValue(key: "/db/main/port", string: "5432"),
                KeyValue(key: "/db/main/database", string: "app"),
                KeyValue(key: "/db/main/user", string: "app"),
                KeyValue(key: "/db/main/password", string: "s3cret"),
                KeyValue(key: "/db/main/sslmode", string: "require"),
            ],
            prefix: "/db/main/"
        )
        #expect(parameters.endpoints.count == 2)
        #expect(parameters.sslMode == .require)
    }

    @Test("errors: a misspelt field names the key; the password is masked in descriptions")
    func errorsAndMasking() throws {
        let error = #expect(throws: PostgresError.self) {
            try PostgresParameters(parsing: KeyValue(key: "/db/main", string: #"{"host": "h", "pasword": "x"}"#))
        }
        #expect(error.map { "\($0)" } == #"invalid connection parameters (key "/db/main"): unknown field "pasword""#)
        let parameters = try PostgresParameters(
            parsing: KeyValue(key: "/db/main", string: "postgresql://app:s3cret@10.0.0.5:5432/app?sslmode=require")
        )
        #expect("\(parameters)" == "postgresql://app:***@10.0.0.5:5432/app?sslmode=require")
    }

    @Test("the retry policy example")
    func retryPolicyExample() {
        let policy = PostgresRetryPolicy()
        #expect(policy.backoff(after: 1) == .milliseconds(100))
        #expect(policy.backoff(after: 5) == .milliseconds(1600))
        #expect(policy.maxAttempts == 6 && policy.maximumBackoff == .seconds(5) && policy.jitter == 0.5)
    }
}
