// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
public import Logging

/// A discovery source backed by a JSON or YAML file of nested keys, re-read when it changes.
///
/// Nested maps become slash-separated keys, list items are keyed by index, and scalars are kept as the
/// text they were written as:
///
/// ```yaml
/// db:
///   main:
///     endpoint: 127.0.0.1:5432     # key /db/main/endpoint
/// memcached:
///   servers:
///     - 127.0.0.1:11211            # key /memcached/servers/0
///     - 127.0.0.1:11212            # key /memcached/servers/1
/// ```
///
/// The same document in JSON gives the same keys. A map key may itself contain slashes
/// (`"/db/main": {"endpoint": ...}`); nulls and empty containers give no key.
///
/// The initializer reads the file and throws when it is missing or malformed, naming the file and the
/// line. Afterwards the source never loses what it has: when a later version of the file cannot be read
/// or parsed, the last good content keeps being served, ``lastReloadError`` holds the error, and it is
/// logged once (at `warning`, since it needs an operator). Each entry's version is the file generation in
/// which its value last changed, so rewriting a file with the same values changes nothing.
///
/// Watches look for changes every ``Configuration/pollInterval``: comparing the file's bytes, so editors
/// that replace the file (write a temporary file, then rename) are followed too.
///
/// A change to the file costs a read and a parse of the whole file (neither JSON nor YAML can be parsed from the
/// middle), and one pass over its entries to find the keys that changed, once per source. After that,
/// ``changes(prefix:)`` hands each subscriber only the changed keys, while each ``watch(prefix:)`` builds, sorts
/// and compares a whole snapshot of its prefix.
public final class FileSource: DiscoverySource, Sendable {
    /// The format of a discovery file.
    public struct Format: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case json
            case yaml
        }

        private let base: Base

        /// JSON (RFC 8259).
        public static let json = Format(base: .json)
        /// YAML 1.1, as parsed by libyaml through Yams. Anchors and aliases are not supported.
        ///
        /// Needs the package's `YAML` trait, which is on by default. A build without it (a dependency declared with
        /// `traits: []`) does not link Yams, and reading a YAML file throws ``BeaconError/Code/unsupportedFormat``.
        public static let yaml = Format(base: .yaml)

        /// `json` or `yaml`.
        public var description: String { self.base == .json ? "json" : "yaml" }

        /// The format a path's extension implies: `.json` is JSON, `.yaml` and `.yml` are YAML.
        ///
        /// - Parameter path: A file path.
        /// - Returns: The format, or `nil` for any other extension.
        public static func implied(byPath path: String) -> Format? {
            let lowercased = path.lowercased()
            if lowercased.hasSuffix(".json") { return .json }
            if lowercased.hasSuffix(".yaml") || lowercased.hasSuffix(".yml") { return .yaml }
            return nil
        }
    }

    /// How a ``FileSource`` reads its file.
    public struct Configuration: Sendable {
        /// The file's format; when `nil` (the default), the extension decides, and a file with another
        /// extension is read as JSON when it starts with `{` or `[`, as YAML otherwise.
        public var format: Format?
        /// How often a watch looks for changes. Default: one second.
        public var pollInterval: Duration

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - format: The file's format, or `nil` to decide from the extension and content.
        ///   - pollInterval: How often a watch looks for changes.
        public init(format: Format? = nil, pollInterval: Duration = .seconds(1)) {
            self.format = format
            self.pollInterval = pollInterval
        }
    }

    private struct State {
        var lastBytes: [UInt8]
        var entries: [String: KeyValue]
        var generation: UInt64
        var lastError: BeaconError?
        var log = FileChangeLog()
    }

    /// The path of the file, as given.
    public let path: String
    /// The configuration the source was created with.
    public let configuration: Configuration
    private let logger: Logger
    private let state: Lock<State>
    private let changeSignal = ChangeSignal()

    /// Reads a file and creates a source over it.
    ///
    /// - Parameters:
    ///   - path: The file's path, absolute or relative to the working directory.
    ///   - configuration: The format and the poll interval.
    ///   - logger: Where reload problems and changes are logged.
    /// - Throws: ``BeaconError`` with code ``BeaconError/Code/unreadableFile`` when the file cannot be
    ///   read, or ``BeaconError/Code/malformedFile`` with the line (and column when known) of the problem.
    public init(
        path: String,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.file", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BeaconError) {
        self.path = path
        self.configuration = configuration
        self.logger = logger
        let bytes = try Self.read(path)
        let values = try Self.parse(bytes, path: path, format: configuration.format)
        var entries: [String: KeyValue] = [:]
        for (key, value) in values { entries[key] = KeyValue(key: key, string: value, version: 1) }
        self.state = Lock(State(lastBytes: bytes, entries: entries, generation: 1, lastError: nil))
    }

    /// The error of the last reload, or `nil` when the file's current content is what is being served.
    public var lastReloadError: BeaconError? { self.state.withLock { $0.lastError } }

    /// How many different contents have been loaded so far; the version of the newest values.
    public var generation: UInt64 { self.state.withLock { $0.generation } }

    /// Reads the file again now, instead of waiting for a watch to poll.
    ///
    /// - Returns: `true` when the values changed.
    /// - Throws: ``BeaconError`` when the file cannot be read or parsed; the last good values are kept.
    @discardableResult
    public func reload() throws(BeaconError) -> Bool {
        let bytes: [UInt8]
        do {
            bytes = try Self.read(self.path)
        } catch {
            self.record(error)
            throw error
        }
        return try self.apply(bytes, force: true)
    }

    /// Reads one key.
    ///
    /// - Parameter key: The full key.
    /// - Returns: The entry, or `nil` when absent.
    public func get(_ key: String) async -> KeyValue? {
        self.state.withLock { $0.entries[key] }
    }

    /// Reads every entry under a prefix.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The entries sorted by key.
    public func list(prefix: String) async -> [KeyValue] {
        self.currentSnapshot(prefix: prefix).entries
    }

    /// Follows a prefix, re-reading the file every ``Configuration/pollInterval``.
    ///
    /// A snapshot is emitted when the values under the prefix change. A rewrite with bad content emits
    /// nothing: the last good snapshot stands, and the error is in ``lastReloadError`` and the log.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The watch; it ends when the iterating task is cancelled.
    public func watch(prefix: String) -> DiscoveryWatch {
        DiscoveryWatch.following(
            prefix: prefix,
            signal: self.changeSignal,
            poll: (self.configuration.pollInterval, { [self] in self.reloadIfChanged() })
        ) { [self] prefix in
            self.currentSnapshot(prefix: prefix)
        }
    }

    /// Follows a prefix as changes: a reset batch with every entry under it first, then the keys that each reload
    /// of the file changed under it.
    ///
    /// The file is polled as by ``watch(prefix:)``. Finding the changed keys is done once per reload for all
    /// subscribers (see the cost note on ``FileSource``); a subscriber then takes the changes since the generation it
    /// last delivered, at a cost proportional to the changes. A subscriber that falls more than 64 generations behind
    /// (or further behind than the file has entries) gets a reset batch instead. Each batch's revision is the
    /// ``generation`` it brings the subscriber to.
    ///
    /// - Parameter prefix: A key prefix.
    /// - Returns: The sequence of change batches; it ends when the iterating task is cancelled.
    public func changes(prefix: String) -> DiscoveryChanges {
        DiscoveryChanges { [self] in
            var delivered: UInt64?
            return {
                while !Task.isCancelled {
                    self.reloadIfChanged()
                    // Read the generation before the changes: a change in between makes the wait return at once.
                    let signalled = self.changeSignal.generation
                    if let batch = self.changeBatch(prefix: prefix, after: &delivered) { return batch }
                    await self.changeSignal.wait(after: signalled, timeout: self.configuration.pollInterval)
                }
                return nil
            }
        }
    }

    /// The changes under `prefix` since generation `delivered` (a reset when `nil` or too old), advancing it; `nil`
    /// when nothing under the prefix changed.
    private func changeBatch(prefix: String, after delivered: inout UInt64?) -> DiscoveryChangeBatch? {
        let (changes, entries, generation) = self.state.withLock { state in
            if let last = delivered,
                let changes = state.log.changes(after: last, current: state.generation, prefix: prefix)
            {
                return (changes, [KeyValue]?.none, state.generation)
            }
            return ([], state.entries.values.filter { $0.key.hasPrefix(prefix) }, state.generation)
        }
        delivered = generation
        if let entries {
            return .reset(DiscoverySnapshot(prefix: prefix, entries: entries), revision: generation)
        }
        return changes.isEmpty ? nil : DiscoveryChangeBatch(isReset: false, changes: changes, revision: generation)
    }

    private func currentSnapshot(prefix: String) -> DiscoverySnapshot {
        let entries = self.state.withLock { state in
            state.entries.values.filter { $0.key.hasPrefix(prefix) }
        }
        return DiscoverySnapshot(prefix: prefix, entries: entries)
    }

    private func reloadIfChanged() {
        do {
            let bytes = try Self.read(self.path)
            _ = try self.apply(bytes, force: false)
        } catch {
            self.record(error)
        }
    }

    /// Parses new content and swaps it in; unchanged bytes are skipped unless `force` is set.
    private func apply(_ bytes: [UInt8], force: Bool) throws(BeaconError) -> Bool {
        let unchanged = self.state.withLock { state in
            state.lastBytes == bytes && (state.lastError == nil || !force)
        }
        if unchanged { return false }
        let values: [String: String]
        do {
            values = try Self.parse(bytes, path: self.path, format: self.configuration.format)
        } catch {
            self.state.withLock { $0.lastBytes = bytes }
            self.record(error)
            throw error
        }
        let (changed, recovered, generation) = self.state.withLock { state in
            state.lastBytes = bytes
            let recovered = state.lastError != nil
            state.lastError = nil
            let next = state.generation + 1
            // Updated in place: only the changed keys are written, and removed keys are looked for only when the
            // count says some are gone.
            var changes: [DiscoveryChange] = []
            for (key, value) in values {
                if let old = state.entries[key], old.value.elementsEqual(value.utf8) { continue }
                let entry = KeyValue(key: key, string: value, version: next)
                state.entries[key] = entry
                changes.append(.put(entry))
            }
            changes.sort { $0.key < $1.key }
            if state.entries.count != values.count {
                let removed = state.entries.keys.filter { values[$0] == nil }
                for key in removed.sorted() {
                    state.entries.removeValue(forKey: key)
                    changes.append(.delete(key, version: next))
                }
            }
            if !changes.isEmpty {
                state.generation = next
                state.log.record(changes, generation: next, entryCount: state.entries.count)
            }
            return (!changes.isEmpty, recovered, state.generation)
        }
        if recovered {
            self.logger.info("Discovery file is valid again", metadata: ["beacon.file": "\(self.path)"])
        }
        if changed {
            self.logger.debug(
                "Discovery file changed",
                metadata: ["beacon.file": "\(self.path)", "beacon.generation": "\(generation)"]
            )
            self.changeSignal.signal()
        }
        return changed
    }

    /// Keeps the error and logs it once per distinct error.
    private func record(_ error: BeaconError) {
        let isNew = self.state.withLock { state in
            defer { state.lastError = error }
            return state.lastError?.description != error.description
        }
        if isNew {
            self.logger.warning(
                "Discovery file could not be reloaded; keeping the last good values",
                metadata: ["beacon.file": "\(self.path)", "beacon.error": "\(error)"]
            )
        }
    }

    private static func read(_ path: String) throws(BeaconError) -> [UInt8] {
        try FileReading.contents(of: path)
    }

    private static func parse(_ bytes: [UInt8], path: String, format: Format?) throws(BeaconError) -> [String: String] {
        let resolved = format ?? Format.implied(byPath: path) ?? Self.sniff(bytes)
        guard resolved == .json || YAMLDocumentParser.isAvailable else {
            throw BeaconError(
                .unsupportedFormat,
                "this build of Beacon reads JSON only: YAML needs the package's YAML trait, which was disabled "
                    + "(enable it, or write the file as JSON)",
                file: path
            )
        }
        do throws(DocumentTree.SyntaxError) {
            let tree = resolved == .json ? try Self.parseJSON(bytes) : try Self.parseYAML(bytes)
            switch tree {
            case .map, .null: break
            case .text(_, let line), .list(_, let line):
                throw DocumentTree.SyntaxError(message: "the document must be a map of keys", line: line)
            }
            return try tree.flattened()
        } catch {
            throw BeaconError(
                .malformedFile,
                "\(error.message) (read as \(resolved))",
                file: path,
                line: error.line,
                column: error.column
            )
        }
    }

    private static func parseJSON(_ bytes: [UInt8]) throws(DocumentTree.SyntaxError) -> DocumentTree {
        do {
            let document = try JSONReader.parseDocument(bytes)
            var lines = document.lines.makeIterator()
            return DocumentTree(json: document.value, lines: &lines)
        } catch {
            throw DocumentTree.SyntaxError(message: error.message, line: error.line ?? 1, column: error.column)
        }
    }

    private static func parseYAML(_ bytes: [UInt8]) throws(DocumentTree.SyntaxError) -> DocumentTree {
        #if YAML
        try YAMLDocumentParser.parse(bytes)
        #else
        // Unreachable: parse(_:path:format:) refuses YAML first when the trait is disabled.
        throw DocumentTree.SyntaxError(message: "YAML is not supported by this build", line: 1)
        #endif
    }

    private static func sniff(_ bytes: [UInt8]) -> Format {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[") ? .json : .yaml
    }
}
