// SPDX-License-Identifier: Apache-2.0

/// One confd template resource: which keys to read, which template renders them, where the result goes, and
/// the commands that check it and make the running service pick it up.
///
/// Resources are read from confd's own files, unchanged: the `[template]` table of each `*.toml` file in
/// `<confdir>/conf.d` (see ``init(contentsOf:templateDirectory:)``).
///
/// ```toml
/// [template]
/// src = "nginx.conf.tmpl"
/// dest = "/etc/nginx/nginx.conf"
/// keys = ["/test"]
/// check_cmd = "/usr/sbin/nginx -t -c {{.src}}"
/// reload_cmd = "/usr/sbin/nginx -s reload"
/// ```
///
/// Besides keys, `keys` may name services as `service:<name>` (``services``): the template then receives the
/// service's registered instances, as the source lists them as a `ServiceRegistry` (Consul's catalog, or the instances
/// etcd and ZooKeeper keep under `/services/<name>/`), at `/services/<name>/<id>`, whatever the prefix, so that
/// `{{#instances(services.web)}}` renders them on every registry.
public struct TemplateResource: Hashable, Sendable, CustomStringConvertible {
    /// The resource file this resource was read from, or a name given in code; used in logs and errors.
    public var name: String
    /// The template's path (`src`, resolved against the template directory).
    public var source: String
    /// The file the rendered template replaces (`dest`).
    public var destination: String
    /// The keys the template reads, relative to ``prefix`` (`keys`); each is read with everything under it. An entry
    /// `service:<name>` names a service instead of a key (see ``services``).
    public var keys: [String]
    /// The key prefix prepended to every key, and removed again from the keys the template sees (`prefix`).
    public var prefix: String
    /// The user that owns the destination, by name or number (`owner`, or confd's numeric `uid`); `nil` keeps the
    /// process's user.
    public var owner: String?
    /// The group that owns the destination, by name or number (`group`, or confd's numeric `gid`); `nil` keeps the
    /// process's group.
    public var group: String?
    /// The destination's permission bits (`mode`, octal text such as `"0644"`); `nil` keeps the mode of the existing
    /// destination, or `0644` for a new one.
    public var mode: UInt32?
    /// A shell command that must succeed on the staged file before it replaces the destination (`check_cmd`);
    /// `{{.src}}` in it is replaced by the staged file's path and `{{.dest}}` by the destination's.
    public var checkCommand: String?
    /// A shell command run after the destination was replaced (`reload_cmd`); the same placeholders apply.
    public var reloadCommand: String?

    /// Creates a resource in code.
    ///
    /// - Parameters:
    ///   - name: A name for logs and errors.
    ///   - source: The template's path.
    ///   - destination: The file to write.
    ///   - keys: The keys the template reads, relative to `prefix`.
    ///   - prefix: The prefix of every key.
    ///   - owner: The destination's owner (name or number); `nil` for the process's user.
    ///   - group: The destination's group (name or number); `nil` for the process's group.
    ///   - mode: The destination's permission bits; `nil` to keep the existing ones, or `0o644`.
    ///   - checkCommand: The check run on the staged file.
    ///   - reloadCommand: The command run after the destination changed.
    public init(
        name: String,
        source: String,
        destination: String,
        keys: [String],
        prefix: String = "",
        owner: String? = nil,
        group: String? = nil,
        mode: UInt32? = nil,
        checkCommand: String? = nil,
        reloadCommand: String? = nil
    ) {
        self.name = name
        self.source = source
        self.destination = destination
        self.keys = keys
        self.prefix = prefix
        self.owner = owner
        self.group = group
        self.mode = mode
        self.checkCommand = checkCommand
        self.reloadCommand = reloadCommand
    }

    /// The prefix the template's keys are relative to, once beacon-confd's global `-prefix` is put in front.
    ///
    /// - Parameter globalPrefix: The global prefix (empty for none).
    /// - Returns: A clean absolute key such as `/production/nginx`, or `/`.
    public func effectivePrefix(globalPrefix: String) -> String {
        KeyPath.join(globalPrefix, self.prefix)
    }

    /// The full keys to read, each with everything under it; `service:` entries are not keys and are left out.
    ///
    /// - Parameter globalPrefix: The global prefix (empty for none).
    /// - Returns: The keys with both prefixes in front, in the order written.
    public func fullKeys(globalPrefix: String) -> [String] {
        let prefix = self.effectivePrefix(globalPrefix: globalPrefix)
        return self.keys.filter { !$0.hasPrefix(Self.servicePrefix) }.map { KeyPath.join(prefix, $0) }
    }

    /// What a `keys` entry starts with to name a service rather than a key: `service:`, as in `service:web`.
    public static let servicePrefix = "service:"

    /// The services the template reads, from the `keys` entries written `service:<name>`, in the order written.
    ///
    /// Each is read from the source as a `ServiceRegistry` (`instances(of:)`, and `watchInstances(of:)` in watch
    /// mode), on any registry; ``prefix`` and the global prefix do not apply to them. The template sees each instance
    /// at `/services/<name>/<id>` as `ServiceInstance` JSON (see ``TemplateData``).
    public var services: [String] {
        self.keys.compactMap { entry in
            entry.hasPrefix(Self.servicePrefix) ? String(entry.dropFirst(Self.servicePrefix.count)) : nil
        }
    }

    /// `nginx.toml (nginx.conf.tmpl -> /etc/nginx/nginx.conf)`.
    public var description: String { "\(self.name) (\(self.source) -> \(self.destination))" }
}

/// Slash-separated keys joined and cleaned as confd does (Go's `path.Join` under a leading `/`).
enum KeyPath {
    /// Joins keys: `join("/production", "nginx/")` is `/production/nginx`; empty parts are skipped.
    static func join(_ parts: String...) -> String {
        if parts.count == 1, self.isClean(parts[0]) { return parts[0] }
        let segments = parts.flatMap { $0.split(separator: "/", omittingEmptySubsequences: true) }
        return "/" + segments.joined(separator: "/")
    }

    /// `true` when a key is already in the form ``join(_:)`` gives: a leading `/`, no empty segment, no trailing `/`
    /// (except the root `/` itself). Most keys are, and checking is cheaper than splitting.
    private static func isClean(_ key: String) -> Bool {
        var previous: UInt8 = 0
        for byte in key.utf8 {
            if byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return false }
            previous = byte
        }
        return key.utf8.first == UInt8(ascii: "/") && (key.utf8.count == 1 || previous != UInt8(ascii: "/"))
    }

    /// The key relative to a prefix, as a template sees it: `relative("/production/nginx/a", to: "/production")` is
    /// `/nginx/a`; `nil` when the key is not under the prefix.
    static func relative(_ key: String, to prefix: String) -> String? {
        if prefix == "/" { return self.join(key) }
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard rest.isEmpty || rest.first == "/" else { return nil }
        return rest.isEmpty ? "/" : self.join(String(rest))
    }
}
