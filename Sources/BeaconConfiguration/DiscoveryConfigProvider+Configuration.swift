// SPDX-License-Identifier: Apache-2.0

extension DiscoveryConfigProvider {
    /// Where a ``DiscoveryConfigProvider`` finds its keys, and which of them are secret.
    ///
    /// A configuration key's components are joined with ``separator`` after ``prefix``: with the defaults,
    /// `http.server.port` is read from the discovery key `/config/http/server/port`.
    ///
    /// ```swift
    /// var configuration = DiscoveryConfigProvider.Configuration(prefix: "/config/checkout/")
    /// configuration.secretKeys = ["db.password"]
    /// configuration.secretPrefixes = ["credentials"]
    /// ```
    public struct Configuration: Sendable {
        /// The discovery prefix the provider watches; configuration keys are read below it. A `/` is added when the
        /// prefix does not end with one. Default: `/config/`.
        public var prefix: String
        /// The text between a configuration key's components in a discovery key. Must not be empty. With `.`,
        /// `http.port` is read from `/config/http.port`. Default: `/`.
        public var separator: String
        /// Configuration keys whose values are secret, written with dots (`db.password`). A secret value is marked
        /// `isSecret` for swift-configuration's access reporters, and errors about it never quote its text.
        /// Default: none.
        public var secretKeys: Set<String>
        /// Configuration key prefixes under which every value is secret, written with dots and matched component by
        /// component: `credentials` covers `credentials` and `credentials.api.token`, not `credentialsStore`.
        /// Default: none.
        public var secretPrefixes: [String]
        /// A name for the provider in ``DiscoveryConfigProvider/providerName`` and in logs; `nil` names it after
        /// ``prefix``. Default: `nil`.
        public var name: String?
        /// How long ``DiscoveryConfigProvider/run()`` waits before following the prefix again after the source's
        /// watch failed; the wait doubles after each failure in a row, up to 30 seconds. Default: 1 second.
        public var retryDelay: Duration

        /// Creates a configuration; every parameter has the default documented on its property.
        ///
        /// - Parameters:
        ///   - prefix: The discovery prefix under which configuration keys live.
        ///   - separator: The text between a configuration key's components.
        ///   - secretKeys: Configuration keys whose values are secret.
        ///   - secretPrefixes: Configuration key prefixes under which every value is secret.
        ///   - name: A name for the provider.
        ///   - retryDelay: The first wait before following the prefix again after the watch failed.
        public init(
            prefix: String = "/config/",
            separator: String = "/",
            secretKeys: Set<String> = [],
            secretPrefixes: [String] = [],
            name: String? = nil,
            retryDelay: Duration = .seconds(1)
        ) {
            self.prefix = prefix
            self.separator = separator
            self.secretKeys = secretKeys
            self.secretPrefixes = secretPrefixes
            self.name = name
            self.retryDelay = retryDelay
        }

        /// The prefix as the provider uses it: ending with `/`.
        var normalizedPrefix: String {
            self.prefix.hasSuffix("/") ? self.prefix : self.prefix + "/"
        }
    }
}
