// SPDX-License-Identifier: Apache-2.0

/// Turns configuration keys into discovery keys and back, and tells which keys are secret.
struct KeyMapping: Sendable {
    /// The discovery prefix, ending with `/`.
    let prefix: String
    let separator: String
    private let secretKeys: Set<[String]>
    private let secretPrefixes: [[String]]

    init(_ configuration: DiscoveryConfigProvider.Configuration) {
        precondition(!configuration.separator.isEmpty, "DiscoveryConfigProvider.Configuration.separator is empty")
        self.prefix = configuration.normalizedPrefix
        self.separator = configuration.separator
        self.secretKeys = Set(configuration.secretKeys.map(Self.dottedComponents))
        self.secretPrefixes = configuration.secretPrefixes.map(Self.dottedComponents)
    }

    private static func dottedComponents(_ key: String) -> [String] {
        key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The discovery key of a configuration key: `/config/` + `a/b/c`.
    func encode(_ components: [String]) -> String {
        self.prefix + components.joined(separator: self.separator)
    }

    /// The configuration key components of a discovery key, or `nil` when the key is not below the prefix or has
    /// an empty component (`/config/a//b`, `/config/a/`), which no configuration key maps to.
    func decode(_ key: String) -> [String]? {
        guard key.hasPrefix(self.prefix) else { return nil }
        let rest = key.utf8.dropFirst(self.prefix.utf8.count)
        guard !rest.isEmpty else { return nil }
        var components: [String] = []
        for part in Substring(rest).split(separator: self.separator, omittingEmptySubsequences: false) {
            guard !part.isEmpty else { return nil }
            components.append(String(part))
        }
        return components
    }

    /// Whether a configuration key is one of the secret keys or lies under a secret prefix.
    func isSecret(_ components: [String]) -> Bool {
        if self.secretKeys.contains(components) { return true }
        return self.secretPrefixes.contains { prefix in
            prefix.count <= components.count && components.starts(with: prefix)
        }
    }
}
