// SPDX-License-Identifier: Apache-2.0

extension PostgresParameters {
    /// libpq's `sslmode`: whether and how to use TLS.
    public struct SSLMode: Hashable, Sendable, CustomStringConvertible {
        /// The libpq value, for example `require`.
        public let description: String

        private init(name description: String) {
            self.description = description
        }

        /// Parses a libpq value.
        ///
        /// - Parameter text: `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`.
        public init?(_ text: String) {
            guard Self.all.contains(where: { $0.description == text }) else { return nil }
            self.init(name: text)
        }

        /// No TLS.
        public static let disable = SSLMode(name: "disable")
        /// Plain first, TLS if the server insists.
        public static let allow = SSLMode(name: "allow")
        /// TLS if the server offers it (libpq's default).
        public static let prefer = SSLMode(name: "prefer")
        /// TLS, without checking the certificate.
        public static let require = SSLMode(name: "require")
        /// TLS, with a certificate signed by a trusted CA.
        public static let verifyCA = SSLMode(name: "verify-ca")
        /// TLS, with a trusted certificate for the host name.
        public static let verifyFull = SSLMode(name: "verify-full")

        static let all = [disable, allow, prefer, require, verifyCA, verifyFull]
    }

    /// libpq's `target_session_attrs`: which kind of server to accept when several hosts are given.
    public struct TargetSessionAttributes: Hashable, Sendable, CustomStringConvertible {
        /// The libpq value, for example `read-write`.
        public let description: String

        private init(name description: String) {
            self.description = description
        }

        /// Parses a libpq value.
        ///
        /// - Parameter text: `any`, `read-write`, `read-only`, `primary`, `standby` or `prefer-standby`.
        public init?(_ text: String) {
            guard Self.all.contains(where: { $0.description == text }) else { return nil }
            self.init(name: text)
        }

        /// Any server.
        public static let any = TargetSessionAttributes(name: "any")
        /// A server that accepts writes by default.
        public static let readWrite = TargetSessionAttributes(name: "read-write")
        /// A server that is read-only by default.
        public static let readOnly = TargetSessionAttributes(name: "read-only")
        /// A server that is not in recovery.
        public static let primary = TargetSessionAttributes(name: "primary")
        /// A hot standby.
        public static let standby = TargetSessionAttributes(name: "standby")
        /// A standby if there is one, else any server.
        public static let preferStandby = TargetSessionAttributes(name: "prefer-standby")

        static let all = [any, readWrite, readOnly, primary, standby, preferStandby]
    }
}
