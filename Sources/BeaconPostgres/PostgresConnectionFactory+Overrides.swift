// SPDX-License-Identifier: Apache-2.0

extension PostgresConnectionFactory {
    /// What the application sets itself on top of the parameters found in discovery: its credentials and options.
    ///
    /// Every field that is set replaces the discovered one; `nil` keeps it. A Patroni leader location gives only host,
    /// port and database, so its user and password must come from here:
    ///
    /// ```swift
    /// let factory = PostgresConnectionFactory(
    ///     source: source,
    ///     location: .patroniLeader(scope: "billing"),
    ///     overrides: .init(user: "billing", password: secret, database: "billing"),
    ///     retryPolicy: PostgresRetryPolicy(deadline: .seconds(30)),
    ///     logger: logger
    /// )
    /// ```
    ///
    /// ``description`` and `dump` show the password as `***`.
    public struct Overrides: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
        /// The role to connect as, or `nil` to keep the discovered one.
        public var user: String?
        /// The password, or `nil` to keep the discovered one. Never printed.
        public var password: String?
        /// The database, or `nil` to keep the discovered one.
        public var database: String?
        /// libpq's `sslmode`, or `nil` to keep the discovered one.
        public var sslMode: PostgresParameters.SSLMode?
        /// How long one server may take to accept a connection, or `nil` to keep the discovered one.
        public var connectTimeout: Duration?
        /// The `application_name`, or `nil` to keep the discovered one.
        public var applicationName: String?
        /// Which kind of server to accept, or `nil` to keep the discovered one (`primary` for a Patroni leader).
        public var targetSessionAttributes: PostgresParameters.TargetSessionAttributes?

        /// Creates overrides; every field defaults to `nil` (keep what discovery says).
        ///
        /// - Parameters:
        ///   - user: The role.
        ///   - password: The password.
        ///   - database: The database.
        ///   - sslMode: libpq's `sslmode`.
        ///   - connectTimeout: How long one server may take to accept a connection.
        ///   - applicationName: The `application_name`.
        ///   - targetSessionAttributes: Which kind of server to accept.
        public init(
            user: String? = nil,
            password: String? = nil,
            database: String? = nil,
            sslMode: PostgresParameters.SSLMode? = nil,
            connectTimeout: Duration? = nil,
            applicationName: String? = nil,
            targetSessionAttributes: PostgresParameters.TargetSessionAttributes? = nil
        ) {
            self.user = user
            self.password = password
            self.database = database
            self.sslMode = sslMode
            self.connectTimeout = connectTimeout
            self.applicationName = applicationName
            self.targetSessionAttributes = targetSessionAttributes
        }

        /// The discovered parameters with every field that is set here replaced.
        ///
        /// - Parameter parameters: The parameters read from discovery.
        /// - Returns: The parameters to connect with.
        public func applied(to parameters: PostgresParameters) -> PostgresParameters {
            var result = parameters
            if let user = self.user { result.user = user }
            if let password = self.password { result.password = password }
            if let database = self.database { result.database = database }
            if let sslMode = self.sslMode { result.sslMode = sslMode }
            if let connectTimeout = self.connectTimeout { result.connectTimeout = connectTimeout }
            if let applicationName = self.applicationName { result.applicationName = applicationName }
            if let attributes = self.targetSessionAttributes { result.targetSessionAttributes = attributes }
            return result
        }

        /// The fields that are set, such as `user=app password=*** database=app`; `none` when none is.
        public var description: String {
            var fields: [String] = []
            if let user = self.user { fields.append("user=\(user)") }
            if self.password != nil { fields.append("password=***") }
            if let database = self.database { fields.append("database=\(database)") }
            if let sslMode = self.sslMode { fields.append("sslmode=\(sslMode)") }
            if let connectTimeout = self.connectTimeout { fields.append("connect_timeout=\(connectTimeout)") }
            if let name = self.applicationName { fields.append("application_name=\(name)") }
            if let attributes = self.targetSessionAttributes { fields.append("target_session_attrs=\(attributes)") }
            return fields.isEmpty ? "none" : fields.joined(separator: " ")
        }

        /// A mirror that shows the password as `***`.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "user": self.user as Any,
                    "password": (self.password == nil ? nil : "***") as String? as Any,
                    "database": self.database as Any,
                    "sslMode": self.sslMode as Any,
                    "connectTimeout": self.connectTimeout as Any,
                    "applicationName": self.applicationName as Any,
                    "targetSessionAttributes": self.targetSessionAttributes as Any,
                ]
            )
        }
    }
}
