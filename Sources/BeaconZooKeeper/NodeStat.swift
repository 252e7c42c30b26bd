// SPDX-License-Identifier: Apache-2.0

import CBeaconZooKeeper

extension ZooKeeperClient {
    /// A node's metadata, as ZooKeeper keeps it (its `Stat`).
    ///
    /// Transaction ids (`zxid`s) are totally ordered across the ensemble: ``mzxid`` is what Beacon reports as an
    /// entry's `KeyValue.version`.
    public struct NodeStat: Hashable, Sendable {
        /// The transaction that created the node.
        public var czxid: Int64
        /// The transaction that last modified the node's data.
        public var mzxid: Int64
        /// The transaction that last added or removed one of the node's children.
        public var pzxid: Int64
        /// When the node was created, in milliseconds since 1970.
        public var ctime: Int64
        /// When the node's data was last modified, in milliseconds since 1970.
        public var mtime: Int64
        /// How many times the node's data changed: the version that compare-and-set compares.
        public var version: Int32
        /// How many times the node's children changed.
        public var cversion: Int32
        /// How many times the node's ACL changed.
        public var aversion: Int32
        /// The session that owns the node when it is ephemeral; `0` for a persistent node.
        public var ephemeralOwner: Int64
        /// The length of the node's data, in bytes.
        public var dataLength: Int32
        /// How many children the node has.
        public var numberOfChildren: Int32

        init(_ stat: Stat) {
            self.czxid = stat.czxid
            self.mzxid = stat.mzxid
            self.pzxid = stat.pzxid
            self.ctime = stat.ctime
            self.mtime = stat.mtime
            self.version = stat.version
            self.cversion = stat.cversion
            self.aversion = stat.aversion
            self.ephemeralOwner = stat.ephemeralOwner
            self.dataLength = stat.dataLength
            self.numberOfChildren = stat.numChildren
        }

        init(_ stat: UnsafePointer<Stat>?) {
            self.init(stat?.pointee ?? Stat())
        }

        /// Whether the node is ephemeral (owned by a session).
        public var isEphemeral: Bool { self.ephemeralOwner != 0 }
    }

    /// A node read with ``ZooKeeperClient/node(at:)``: its data and metadata.
    public struct Node: Hashable, Sendable {
        /// The node's path, relative to the chroot.
        public var path: String
        /// The node's data; empty when the node holds none.
        public var data: [UInt8]
        /// The node's metadata.
        public var stat: NodeStat
    }
}
