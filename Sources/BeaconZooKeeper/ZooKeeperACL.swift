// SPDX-License-Identifier: Apache-2.0

import CBeaconZooKeeper

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// One entry of a znode's access control list: a scheme, an identity in it, and what that identity may do.
///
/// ```swift
/// // Only the digest user the client authenticated as may read and write the nodes it creates.
/// var configuration = ZooKeeperClient.Configuration(servers: ["10.0.0.1:2181"])
/// configuration.credentials = .init(username: "app", password: secret)
/// configuration.acl = ZooKeeperACL.creatorAll
/// ```
public struct ZooKeeperACL: Hashable, Sendable, CustomStringConvertible {
    /// What an identity may do with a node.
    public struct Permissions: OptionSet, Hashable, Sendable {
        /// The permission bits, as ZooKeeper numbers them.
        public var rawValue: Int32

        /// Creates permissions from ZooKeeper's bits.
        ///
        /// - Parameter rawValue: The bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Read the node's data and list its children.
        public static let read = Permissions(rawValue: 1)
        /// Set the node's data.
        public static let write = Permissions(rawValue: 2)
        /// Create children.
        public static let create = Permissions(rawValue: 4)
        /// Delete children.
        public static let delete = Permissions(rawValue: 8)
        /// Set the node's ACL.
        public static let admin = Permissions(rawValue: 16)
        /// Every permission.
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }

    /// What the identity may do.
    public var permissions: Permissions
    /// The scheme: `world`, `auth`, `digest` or `ip`.
    public var scheme: String
    /// The identity in the scheme: `anyone` for `world`, `user:base64(sha1(user:password))` for `digest`, empty for
    /// `auth` (the authenticated creator).
    public var id: String

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - permissions: What the identity may do.
    ///   - scheme: The scheme.
    ///   - id: The identity in the scheme.
    public init(permissions: Permissions, scheme: String, id: String) {
        self.permissions = permissions
        self.scheme = scheme
        self.id = id
    }

    /// Anyone may do anything: ZooKeeper's `OPEN_ACL_UNSAFE`, the default for nodes the client creates.
    public static let openUnsafe = [ZooKeeperACL(permissions: .all, scheme: "world", id: "anyone")]
    /// Only the identities the client authenticated as (``ZooKeeperClient/Configuration/credentials``) may do
    /// anything: ZooKeeper's `CREATOR_ALL_ACL`. Creating a node with it fails without credentials.
    public static let creatorAll = [ZooKeeperACL(permissions: .all, scheme: "auth", id: "")]
    /// The creator may do anything and everyone else may read: `CREATOR_ALL_ACL` plus `READ_ACL_UNSAFE`.
    public static let creatorAllOthersRead =
        creatorAll + [ZooKeeperACL(permissions: .read, scheme: "world", id: "anyone")]

    /// `scheme:id:permissions`, as zkCli prints it (`world:anyone:cdrwa`).
    public var description: String {
        let letters: [(Permissions, Character)] = [
            (.create, "c"), (.delete, "d"), (.read, "r"), (.write, "w"), (.admin, "a"),
        ]
        return "\(self.scheme):\(self.id):"
            + String(letters.compactMap { self.permissions.contains($0.0) ? $0.1 : nil })
    }

    /// Calls `body` with the list as libzookeeper's `ACL_vector`, valid only during the call.
    static func withCVector<Result>(
        _ list: [ZooKeeperACL],
        _ body: (UnsafeMutablePointer<ACL_vector>) -> Result
    ) -> Result {
        let entries = UnsafeMutablePointer<ACL>.allocate(capacity: max(list.count, 1))
        for (index, entry) in list.enumerated() {
            (entries + index).initialize(
                to: ACL(perms: entry.permissions.rawValue, id: Id(scheme: strdup(entry.scheme), id: strdup(entry.id)))
            )
        }
        defer {
            for index in 0..<list.count {
                free(entries[index].id.scheme)
                free(entries[index].id.id)
            }
            entries.deinitialize(count: list.count)
            entries.deallocate()
        }
        var vector = ACL_vector(count: Int32(list.count), data: entries)
        return body(&vector)
    }
}
