// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconPostgres
import Testing

@Suite(.timeLimit(.minutes(1)))
struct PostgresParametersTests {
    @Test("a JSON object with every field")
    func json() throws {
        let entry = KeyValue(
            key: "/db/main",
            string: """
                {"host": "10.0.0.5", "port": 6432, "database": "app", "user": "app", "password": "s3cret",
                 "sslmode": "require", "connect_timeout": 3, "application_name": "billing",
                 "target_session_attrs": "read-write"}
                """
        )
        let parameters = try PostgresParameters(parsing: entry)
        #expect(parameters.endpoints == [Endpoint(host: "10.0.0.5", port: 6432)])
        #expect(parameters.database == "app")
        #expect(parameters.user == "app")
        #expect(parameters.password == "s3cret")
        #expect(parameters.sslMode == .require)
        #expect(parameters.connectTimeout == .seconds(3))
        #expect(parameters.applicationName == "billing")
        #expect(parameters.targetSessionAttributes == .readWrite)
    }

    @Test("JSON hosts as an array, and as a comma-separated host list")
    func jsonHosts() throws {
        let array = try PostgresParameters(
            parsing: KeyValue(key: "/db", string: #"{"hosts": ["10.0.0.5:5432", "[fd00::6]:5433"], "user": "u"}"#)
        )
        #expect(array.endpoints == [Endpoint(host: "10.0.0.5", port: 5432), Endpoint(host: "fd00::6", port: 5433)])
        let list = try PostgresParameters(parsing: KeyValue(key: "/db", string: #"{"host": "a,b:5433", "port": 6000}"#))
        #expect(list.endpoints == [Endpoint(host: "a", port: 6000), Endpoint(host: "b", port: 5433)])
        #expect(list.connectTimeout == .seconds(10))
    }

    @Test("a postgresql:// URI with several hosts, percent-encoding and options")
    func uri() throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(
                key: "/db/main",
                string: "postgresql://app:p%40ss%2Fword@10.0.0.5:5432,10.0.0.6/my%20db"
                    + "?sslmode=disable&connect_timeout=2.5&application_name=web&target_session_attrs=primary"
            )
        )
        #expect(
            parameters.endpoints == [Endpoint(host: "10.0.0.5", port: 5432), Endpoint(host: "10.0.0.6", port: 5432)]
        )
        #expect(parameters.user == "app")
        #expect(parameters.password == "p@ss/word")
        #expect(parameters.database == "my db")
        #expect(parameters.sslMode == .disable)
        #expect(parameters.connectTimeout == .milliseconds(2500))
        #expect(parameters.applicationName == "web")
        #expect(parameters.targetSessionAttributes == .primary)
    }

    @Test("a field given twice in a JSON object: the first wins")
    func repeatedField() throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(key: "/db/main", string: #"{"host": "10.0.0.5", "port": 5433, "port": 5434}"#)
        )
        #expect(parameters.endpoints == [Endpoint(host: "10.0.0.5", port: 5433)])
    }

    @Test("separate keys under a prefix; other keys are ignored")
    func prefix() throws {
        let entries = [
            KeyValue(key: "/db/main/host", string: "10.0.0.5"),
            KeyValue(key: "/db/main/port", string: "5433"),
            KeyValue(key: "/db/main/database", string: "app"),
            KeyValue(key: "/db/main/user", string: "app"),
            KeyValue(key: "/db/main/password", string: "s3cret"),
            KeyValue(key: "/db/main/replica/host", string: "10.0.0.9"),
        ]
        let parameters = try PostgresParameters(entries: entries, prefix: "/db/main/")
        #expect(parameters.endpoints == [Endpoint(host: "10.0.0.5", port: 5433)])
        #expect(parameters.password == "s3cret")
        let error = #expect(throws: PostgresError.self) {
            try PostgresParameters(entries: [KeyValue(key: "/db/main/port", string: "5432")], prefix: "/db/main/")
        }
        #expect(error?.key == "/db/main/host")
        #expect(error?.code == .invalidParameters)
    }

    @Test(
        "malformed values give an error naming the key and the problem, never the password",
        arguments: [
            (#"{"host": "10.0.0.5", "port": "54x", "password": "hunter22"}"#, "port \"54x\""),
            (#"{"host": "10.0.0.5", "pasword": "hunter22"}"#, "unknown field \"pasword\""),
            (#"{"host": "10.0.0.5", "password": "hunter22", "sslmode": "maybe"}"#, "sslmode \"maybe\""),
            (#"{"host": "10.0.0.5", "password": hunter22}"#, "not a well-formed JSON object"),
            (#"{"host": "10.0.0.5", "password": "hunter22",}"#, "not a well-formed JSON object"),
            (#"{"host": "10.0.0.5", "password": "hunter22", "port": true}"#, "not a well-formed JSON object"),
            (#"{"host": "10.0.0.5", "password": "hunter22", "hosts": ["a", 1]}"#, "not a well-formed JSON object"),
            (#"{"password": "hunter22"}"#, "no host"),
            ("postgresql://app:hunter22@10.0.0.5:99999/app", "host:"),
            ("postgresql://app:hunter22@10.0.0.5/app?colour=blue", "unknown URI option \"colour\""),
            ("10.0.0.5:5432", "neither a JSON object nor a postgresql:// URI"),
        ]
    )
    func malformed(value: String, expected: String) throws {
        let error = #expect(throws: PostgresError.self) {
            try PostgresParameters(parsing: KeyValue(key: "/db/main", string: value))
        }
        let text = error.map { String(describing: $0) } ?? ""
        #expect(error?.code == .invalidParameters)
        #expect(error?.key == "/db/main")
        #expect(text.contains("/db/main"), "\(text)")
        #expect(text.contains(expected), "\(text)")
        #expect(!text.contains("hunter22"), "\(text)")
    }

    @Test(
        "a port or connect_timeout too large for an integer is an error, not a trap",
        arguments: [
            (#"{"host": "10.0.0.5", "port": 1e300}"#, "port \"1e+300\""),
            (#"{"host": "10.0.0.5", "connect_timeout": 1e300}"#, "connect_timeout \"1e+300\""),
            (#"{"host": "10.0.0.5", "connect_timeout": "1e16"}"#, "connect_timeout \"1e16\""),
            ("postgresql://10.0.0.5/app?connect_timeout=1e16", "connect_timeout \"1e16\""),
        ]
    )
    func tooLarge(value: String, expected: String) throws {
        let error = #expect(throws: PostgresError.self) {
            try PostgresParameters(parsing: KeyValue(key: "/db/main", string: value))
        }
        #expect(error?.code == .invalidParameters)
        #expect(error.map { String(describing: $0) }?.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("the description and the mirror mask the password")
    func masking() throws {
        let parameters = try PostgresParameters(
            parsing: KeyValue(key: "/db/main", string: "postgresql://app:hunter22@10.0.0.5:5432/app?sslmode=require")
        )
        #expect("\(parameters)" == "postgresql://app:***@10.0.0.5:5432/app?sslmode=require")
        var dumped = ""
        dump(parameters, to: &dumped)
        #expect(!dumped.contains("hunter22"))
        #expect(!String(reflecting: parameters).contains("hunter22"))
    }
}
