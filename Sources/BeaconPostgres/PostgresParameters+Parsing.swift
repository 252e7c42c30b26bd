// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension PostgresParameters {
    /// Reads parameters from one discovery entry holding a JSON object or a `postgresql://` URI.
    ///
    /// A value starting with `{` is read as JSON with the fields `host` (`"h"`, `"h:port"` or a comma-separated
    /// list), `port`, `hosts` (an array of `"h:port"`), `database` (or `dbname`), `user`, `password`, `sslmode`,
    /// `connect_timeout` (seconds), `application_name` and `target_session_attrs`; unknown fields are errors. Any
    /// other value must be a URI `postgresql://[user[:password]@]host[:port][,host[:port]...][/database][?options]`
    /// (also `postgres://`), with the same options as query parameters and percent-encoding as in libpq.
    ///
    /// - Parameter entry: The discovery entry.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/invalidParameters``, naming the key and what is
    ///   wrong; the message never contains the password.
    public init(parsing entry: KeyValue) throws(PostgresError) {
        let text = ParameterFields.trimmed(entry.string)
        var fields = ParameterFields(key: entry.key)
        if text.hasPrefix("{") {
            try fields.readJSON(text)
        } else if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            try fields.readURI(text)
        } else if text.isEmpty {
            throw fields.error("the value is empty")
        } else {
            throw fields.error("the value is neither a JSON object nor a postgresql:// URI")
        }
        self = try fields.parameters()
    }

    /// Reads parameters from separate keys under a prefix: `<prefix>host`, `port`, `database`, `user`, `password`,
    /// `sslmode`, `connect_timeout`, `application_name`, `target_session_attrs`.
    ///
    /// `host` may hold `h`, `h:port` or a comma-separated list; `port` applies to hosts without one. Other keys under
    /// the prefix are ignored.
    ///
    /// - Parameters:
    ///   - entries: The entries under the prefix, as `list(prefix:)` returns them.
    ///   - prefix: The prefix, usually ending in `/`.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/invalidParameters``, naming the key and what is
    ///   wrong; the message never contains the password.
    public init(entries: [KeyValue], prefix: String) throws(PostgresError) {
        var fields = ParameterFields(key: prefix)
        for entry in entries where entry.key.hasPrefix(prefix) {
            let name = String(entry.key.dropFirst(prefix.count))
            guard ParameterFields.names.contains(name) || name == "dbname" else { continue }
            fields.key = entry.key
            try fields.set(name, ParameterFields.trimmed(entry.string))
        }
        fields.key = prefix
        if fields.host == nil {
            fields.key = prefix + "host"
            throw fields.error("the key is absent")
        }
        self = try fields.parameters()
    }
}

/// The fields of a parameter value while it is being read, and the key it is read from (for errors).
struct ParameterFields {
    static let names: Set<String> = [
        "host", "hosts", "port", "database", "user", "password", "sslmode", "connect_timeout", "application_name",
        "target_session_attrs",
    ]

    var key: String
    var host: String?
    var hosts: [String]?
    var port: Int?
    var database: String?
    var user: String?
    var password: String?
    var sslMode: PostgresParameters.SSLMode?
    var connectTimeout: Duration?
    var applicationName: String?
    var targetSessionAttributes: PostgresParameters.TargetSessionAttributes?

    init(key: String) {
        self.key = key
    }

    func error(_ message: String) -> PostgresError {
        PostgresError(.invalidParameters, message, key: self.key)
    }

    /// Sets a field from its text form.
    mutating func set(_ name: String, _ value: String) throws(PostgresError) {
        switch name {
        case "host": self.host = value
        case "port":
            guard let port = Int(value), (1...65535).contains(port) else {
                throw self.error("port \"\(value)\" is not a number from 1 to 65535")
            }
            self.port = port
        case "database", "dbname": self.database = value
        case "user": self.user = value
        case "password": self.password = value
        case "sslmode":
            guard let mode = PostgresParameters.SSLMode(value) else {
                throw self.error(
                    "sslmode \"\(value)\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )
            }
            self.sslMode = mode
        case "connect_timeout":
            guard let seconds = Double(value), seconds > 0, seconds.isFinite,
                let milliseconds = Int64(exactly: (seconds * 1000).rounded())
            else {
                throw self.error("connect_timeout \"\(value)\" is not a positive number of seconds")
            }
            self.connectTimeout = .milliseconds(milliseconds)
        case "application_name": self.applicationName = value
        case "target_session_attrs":
            guard let attributes = PostgresParameters.TargetSessionAttributes(value) else {
                throw self.error(
                    "target_session_attrs \"\(value)\" is not one of any, read-write, read-only, primary, standby, "
                        + "prefer-standby"
                )
            }
            self.targetSessionAttributes = attributes
        default:
            throw self.error("unknown field \"\(name)\"")
        }
    }

    /// Builds the parameters, checking that there is a host.
    func parameters() throws(PostgresError) -> PostgresParameters {
        var endpoints: [Endpoint] = []
        let defaultPort = self.port ?? 5432
        do {
            if let hosts = self.hosts {
                for host in hosts { endpoints.append(try Endpoint(parsing: host, defaultPort: defaultPort)) }
            } else if let host = self.host {
                endpoints = try Endpoint.list(parsing: host, defaultPort: defaultPort)
            }
        } catch {
            throw self.error("host: \(error.message)")
        }
        guard !endpoints.isEmpty else { throw self.error("no host is given") }
        if let bad = endpoints.first(where: { $0.host.contains(",") || $0.host.isEmpty }) {
            throw self.error("host \"\(bad.host)\" is not valid")
        }
        return PostgresParameters(
            endpoints: endpoints,
            database: self.database,
            user: self.user,
            password: self.password,
            sslMode: self.sslMode,
            connectTimeout: self.connectTimeout ?? .seconds(10),
            applicationName: self.applicationName,
            targetSessionAttributes: self.targetSessionAttributes
        )
    }

    // MARK: JSON

    /// Reads a flat JSON object whose values are strings, numbers, arrays of strings or null.
    mutating func readJSON(_ text: String) throws(PostgresError) {
        guard case .object(let members)? = try? JSONReader.parse(Array(text.utf8)),
            members.allSatisfy({ Self.isFlat($0.value) })
        else {
            // The reader's message may quote a character of the text (and so of the password): say only that.
            throw self.error("the value is not a well-formed JSON object")
        }
        var object: [String: JSONValue] = [:]
        for member in members where object[member.key] == nil { object[member.key] = member.value }  // the first wins
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            switch (name, value) {
            case (_, .null): continue
            case ("hosts", .array(let hosts)): self.hosts = hosts.compactMap(\.scalarText)
            case ("hosts", _): throw self.error("field \"hosts\" must be an array of strings")
            case (_, .array): throw self.error("field \"\(name)\" must not be an array")
            case ("port", .number(let text)), ("connect_timeout", .number(let text)):
                let number = Double(text) ?? 0
                try self.set(name, Int(exactly: number).map { String($0) } ?? String(number))
            case (_, .number):
                guard ParameterFields.names.contains(name) || name == "dbname" else {
                    throw self.error("unknown field \"\(name)\"")
                }
                throw self.error("field \"\(name)\" must be a string")
            case (_, .string(let string)):
                guard ParameterFields.names.contains(name) || name == "dbname" else {
                    throw self.error("unknown field \"\(name)\"")
                }
                try self.set(name, string)
            case (_, .bool), (_, .object): continue  // refused above
            }
        }
        if self.host != nil && self.hosts != nil { throw self.error("give either \"host\" or \"hosts\", not both") }
    }

    /// Whether a member's value is a string, a finite number, an array of strings or null.
    private static func isFlat(_ value: JSONValue) -> Bool {
        switch value {
        case .null, .string: true
        case .number(let text): Double(text)?.isFinite == true
        case .array(let items): items.allSatisfy { if case .string = $0 { true } else { false } }
        case .bool, .object: false
        }
    }

    // MARK: URI

    mutating func readURI(_ text: String) throws(PostgresError) {
        var rest = Substring(text)
        rest = rest.hasPrefix("postgresql://") ? rest.dropFirst(13) : rest.dropFirst(11)
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                self.user = try self.percentDecoded(userInfo[..<colon], "user")
                self.password = try self.percentDecoded(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                self.user = try self.percentDecoded(userInfo, "user")
            }
            if self.user?.isEmpty == true { self.user = nil }
        }
        if let slash = rest.firstIndex(of: "/") {
            let database = try self.percentDecoded(rest[rest.index(after: slash)...], "database")
            if !database.isEmpty { self.database = database }
            rest = rest[..<slash]
        }
        self.host = String(rest)
        for item in query.split(separator: "&") where !item.isEmpty {
            guard let equals = item.firstIndex(of: "=") else {
                throw self.error("URI option \"\(item)\" has no value")
            }
            let name = String(item[..<equals])
            guard name != "host" && name != "hosts" && name != "port" else {
                throw self.error("URI option \"\(name)\" is not supported: put hosts and ports before the path")
            }
            guard ParameterFields.names.contains(name) || name == "dbname" else {
                throw self.error("unknown URI option \"\(name)\"")
            }
            try self.set(name, try self.percentDecoded(item[item.index(after: equals)...], name))
        }
    }

    func percentDecoded(_ text: Substring, _ what: String) throws(PostgresError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else {
                throw self.error("the \(what) in the URI has a malformed percent-encoding")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func trimmed(_ text: String) -> String {
        let characters = Substring(text)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
            let last = characters.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(characters[first...last])
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
