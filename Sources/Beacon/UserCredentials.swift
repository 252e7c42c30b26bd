// SPDX-License-Identifier: Apache-2.0

/// A user name and password with which a client authenticates to its servers (etcd's authentication, ZooKeeper's
/// `digest` scheme). The password never appears in descriptions or reflections (`dump`, `Mirror`).
public struct UserCredentials: Sendable, CustomStringConvertible, CustomReflectable {
    /// The user.
    public var username: String
    /// The user's password.
    public var password: String

    /// Creates credentials.
    ///
    /// - Parameters:
    ///   - username: The user.
    ///   - password: The user's password.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The user name with the password masked.
    public var description: String { "\(self.username):********" }

    /// A mirror that shows the password as `********`.
    public var customMirror: Mirror {
        Mirror(self, children: ["username": self.username, "password": "********"], displayStyle: .struct)
    }
}
