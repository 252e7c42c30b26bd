// SPDX-License-Identifier: Apache-2.0

extension DiscoveryLocation.PatroniCluster {
    /// The leader named in a snapshot of ``path``: the member whose name the leader key holds, read from its entry.
    ///
    /// The leader key is the source of truth: right after a failover the new leader's entry may still say
    /// `"role":"replica"` for one loop, so the role is not checked.
    ///
    /// - Parameter snapshot: A snapshot of ``path``.
    /// - Returns: The leader, or `nil` when the leader key is absent or empty (no leader: a failover in progress).
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/notFound`` naming the member's key when the leader has no
    ///   member entry, or ``BeaconError/Code/invalidValue`` when that entry cannot be read.
    public func leader(in snapshot: DiscoverySnapshot) throws(BeaconError) -> DiscoveryLocation.PatroniMember? {
        guard let leader = snapshot[key: self.leaderKey] else { return nil }
        let name = leader.string.trimmingWhitespace()
        guard !name.isEmpty else { return nil }
        guard let entry = snapshot[key: self.memberKey(name)] else {
            throw BeaconError(.notFound, "the leader \"\(name)\" has no member entry", key: self.memberKey(name))
        }
        return try DiscoveryLocation.PatroniMember(name: name, decoding: entry)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String { Substring(self).trimmingWhitespace() }
}

extension DiscoveryLocation {
    /// One member of a Patroni cluster, as its `<namespace><scope>/members/<name>` entry describes it.
    ///
    /// Only what a client needs is kept: where the member's PostgreSQL listens and which database its `conn_url`
    /// names. A `conn_url` never carries credentials, and any it did carry would be ignored: the application brings
    /// its own user and password.
    public struct PatroniMember: Hashable, Sendable, CustomStringConvertible {
        /// The member's name, for example `n1`.
        public var name: String
        /// Where the member's PostgreSQL listens (host and port of `conn_url`; port 5432 when it has none).
        public var endpoint: Endpoint
        /// The database `conn_url` names, if any (Patroni writes `postgres`).
        public var database: String?
        /// The member's `role` as last published (`master`, `primary`, `replica`, ...), if any.
        public var role: String?
        /// The member's `state` as last published (`running`, `starting`, ...), if any.
        public var state: String?

        /// Creates a member description.
        ///
        /// - Parameters:
        ///   - name: The member's name.
        ///   - endpoint: Where its PostgreSQL listens.
        ///   - database: The database its `conn_url` names.
        ///   - role: Its published role.
        ///   - state: Its published state.
        public init(
            name: String,
            endpoint: Endpoint,
            database: String? = nil,
            role: String? = nil,
            state: String? = nil
        ) {
            self.name = name
            self.endpoint = endpoint
            self.database = database
            self.role = role
            self.state = state
        }

        /// Reads a member entry: JSON with `conn_url` (`postgres://host:port/database`), `role` and `state`.
        ///
        /// - Parameters:
        ///   - name: The member's name.
        ///   - entry: Its `members/<name>` entry.
        /// - Throws: ``BeaconError`` with code ``BeaconError/Code/invalidValue`` naming the key and the value when
        ///   the value is not such JSON or its `conn_url` has no valid host and port.
        public init(name: String, decoding entry: KeyValue) throws(BeaconError) {
            // An object whose conn_url, role and state are strings when present; other members are ignored.
            let member: (url: String?, role: String?, state: String?)
            do {
                let stored = try JSONReader.parse(entry.value).object("(the entry)")
                func field(_ name: String) throws(JSONError) -> String? {
                    try stored[name].map { (value) throws(JSONError) in try value.string(name) }
                }
                member = (try field("conn_url"), try field("role"), try field("state"))
            } catch {
                throw BeaconError(
                    .invalidValue,
                    "expected a Patroni member as JSON with conn_url",
                    key: entry.key,
                    text: Self.maskingPasswords(entry.string)
                )
            }
            guard let url = member.url else {
                throw BeaconError(
                    .invalidValue,
                    "the Patroni member has no conn_url",
                    key: entry.key,
                    text: Self.maskingPasswords(entry.string)
                )
            }
            let (endpoint, database) = try Self.parse(connectionURL: url, key: entry.key)
            self.init(name: name, endpoint: endpoint, database: database, role: member.role, state: member.state)
        }

        /// Host, port and database of `postgres[ql]://[user[:password]@]host[:port][/database][?options]`.
        private static func parse(connectionURL url: String, key: String) throws(BeaconError) -> (Endpoint, String?) {
            var rest = Substring(url)
            if rest.hasPrefix("postgresql://") {
                rest = rest.dropFirst("postgresql://".count)
            } else if rest.hasPrefix("postgres://") {
                rest = rest.dropFirst("postgres://".count)
            } else {
                throw BeaconError(
                    .invalidValue,
                    "conn_url is not a postgres:// URL",
                    key: key,
                    text: Self.maskingPasswords(url)
                )
            }
            if let mark = rest.firstIndex(where: { $0 == "?" }) { rest = rest[..<mark] }
            // Credentials, if any, are dropped unread: the application supplies its own.
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            var database: String?
            if let slash = rest.firstIndex(of: "/") {
                let name = rest[rest.index(after: slash)...]
                database = name.isEmpty ? nil : String(name)
                rest = rest[..<slash]
            }
            do {
                return (try Endpoint(parsing: String(rest), defaultPort: 5432), database)
            } catch {
                throw BeaconError(
                    .invalidValue,
                    "conn_url: \(error.message)",
                    key: key,
                    text: Self.maskingPasswords(url)
                )
            }
        }

        /// The text with the password of every `scheme://user:password@` replaced by `***`, for error messages.
        static func maskingPasswords(_ text: String) -> String {
            var result = ""
            var rest = Substring(text)
            while let scheme = rest.firstRange(of: "://") {
                result += rest[..<scheme.upperBound]
                rest = rest[scheme.upperBound...]
                let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "\"" || $0 == "?" } ?? rest.endIndex
                guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
                    let colon = rest[..<at].firstIndex(of: ":")
                else { continue }
                result += rest[...colon] + "***"
                rest = rest[at...]
            }
            return result + rest
        }

        /// `name at host:port (role)`.
        public var description: String {
            "\(self.name) at \(self.endpoint)" + (self.role.map { " (\($0))" } ?? "")
        }
    }
}
