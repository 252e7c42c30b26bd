// SPDX-License-Identifier: Apache-2.0

/// Where the nodes of a key prefix are: the directory to read and the names of its children that match.
///
/// A prefix ending in `/` (`/memcached/servers/`) is a directory, and every node below it matches. Any other prefix
/// (`/memcached/ser`) matches, in its parent directory, the children whose names start with its last part, and
/// everything below them, as a prefix of etcd keys does. The empty prefix and `/` are the whole tree, except
/// ZooKeeper's own `/zookeeper`.
struct PrefixScope: Sendable {
    /// The prefix, as given.
    let prefix: String
    /// The directory whose children are read first: `/memcached/servers` or `/`.
    let directory: String
    /// The start of the names of the directory's children that match; empty when all do.
    let namePrefix: String
    /// `false` when no node can match (a non-empty prefix that does not start with `/`).
    let isValid: Bool

    init(_ prefix: String) {
        self.prefix = prefix
        guard !prefix.isEmpty else {
            (self.directory, self.namePrefix, self.isValid) = ("/", "", true)
            return
        }
        guard prefix.hasPrefix("/"), let slash = prefix.lastIndex(of: "/") else {
            (self.directory, self.namePrefix, self.isValid) = ("/", "", false)
            return
        }
        let directory = String(prefix[..<slash])
        self.directory = directory.isEmpty ? "/" : directory
        self.namePrefix = String(prefix[prefix.index(after: slash)...])
        self.isValid = !directory.contains("//")
    }

    /// Whether a child of ``directory`` is in scope.
    func includes(child name: String) -> Bool {
        name.hasPrefix(self.namePrefix) && !(self.directory == "/" && name == "zookeeper")
    }

    /// The path of a child of a node.
    static func path(of child: String, in parent: String) -> String {
        parent == "/" ? "/" + child : parent + "/" + child
    }
}
