// SPDX-License-Identifier: Apache-2.0

import Foundation
import TOMLKit

extension TemplateResource {
    /// Reads a confd template resource file.
    ///
    /// The file is confd's format, unchanged: a `[template]` table with `src`, `dest` and `keys` (required) and
    /// `prefix`, `owner`, `group` (or confd's numeric `uid` and `gid`), `mode`, `check_cmd` and `reload_cmd`.
    /// Other keys are ignored, as confd ignores them. An entry of `keys` written `service:<name>` names a service's
    /// registered instances rather than a key (see ``services``).
    ///
    /// - Parameters:
    ///   - path: The resource file, such as `/etc/confd/conf.d/nginx.toml`.
    ///   - templateDirectory: The directory a relative `src` is read from (confd's `<confdir>/templates`).
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/unreadableFile`` when the file cannot be read, or
    ///   ``ConfdError/Code/malformedResource`` naming the file and line when it is not valid TOML or a field is
    ///   missing or of the wrong type.
    public init(contentsOf path: String, templateDirectory: String) throws(ConfdError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfdError(.unreadableFile, "cannot read the resource file", file: path)
        }
        try self.init(parsing: text, path: path, templateDirectory: templateDirectory)
    }

    /// Parses the text of a confd template resource file; see ``init(contentsOf:templateDirectory:)``.
    ///
    /// - Parameters:
    ///   - text: The file's text.
    ///   - path: The file's path, for errors and for ``name``.
    ///   - templateDirectory: The directory a relative `src` is read from.
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/malformedResource`` naming the file and line (a
    ///   `service:` entry of `keys` without a name, or with a `/` in it, included).
    public init(parsing text: String, path: String, templateDirectory: String) throws(ConfdError) {
        let fields = try ResourceFields(text: text, path: path)
        let source = try fields.requiredString("src")
        let uid = try fields.integer("uid")
        let gid = try fields.integer("gid")
        let keys = try fields.requiredStrings("keys")
        for entry in keys where entry.hasPrefix(Self.servicePrefix) {
            if let problem = Self.serviceProblem(entry) {
                throw ConfdError(.malformedResource, problem, file: path, line: fields.line(of: "keys"))
            }
        }
        self.init(
            name: path,
            source: source.hasPrefix("/") ? source : templateDirectory + "/" + source,
            destination: try fields.requiredString("dest"),
            keys: keys,
            prefix: try fields.string("prefix") ?? "",
            owner: try fields.string("owner") ?? uid.map(String.init),
            group: try fields.string("group") ?? gid.map(String.init),
            mode: try fields.mode(),
            checkCommand: try fields.string("check_cmd"),
            reloadCommand: try fields.string("reload_cmd")
        )
    }

    /// What is wrong with a `service:` entry of `keys`, or `nil` when it names a service.
    static func serviceProblem(_ entry: String) -> String? {
        let name = entry.dropFirst(Self.servicePrefix.count)
        guard name.isEmpty || name.contains("/") else { return nil }
        return "keys entry \"\(entry)\" names no service: write service:<name>, such as service:web, with a name that "
            + "holds no '/'"
    }

    /// Reads every resource file (`*.toml`) in `<confdir>/conf.d`, in file name order; templates are read from
    /// `<confdir>/templates`.
    ///
    /// - Parameter confdir: confd's configuration directory, such as `/etc/confd`.
    /// - Returns: The resources; empty when the directory has no resource file.
    /// - Throws: ``ConfdError`` for the first file that cannot be read or parsed, or with code
    ///   ``ConfdError/Code/invalidConfiguration`` when `<confdir>/conf.d` does not exist.
    public static func loadAll(confdir: String) throws(ConfdError) -> [TemplateResource] {
        let directory = confdir + "/conf.d"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfdError(.invalidConfiguration, "the confdir has no readable conf.d directory", file: directory)
        }
        var resources: [TemplateResource] = []
        for name in names.sorted() where name.hasSuffix(".toml") {
            resources.append(
                try TemplateResource(contentsOf: directory + "/" + name, templateDirectory: confdir + "/templates")
            )
        }
        return resources
    }
}

/// The `[template]` table of a resource file, with each field's line for errors.
private struct ResourceFields {
    private let values: [String: any TOMLValueConvertible]
    private let text: String
    private let path: String

    init(text: String, path: String) throws(ConfdError) {
        self.text = text
        self.path = path
        if let problem = TOMLPreflight.problem(in: text) {
            throw ConfdError(.malformedResource, problem.message, file: path, line: problem.line)
        }
        let document: TOMLTable
        do {
            document = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfdError(
                .malformedResource,
                error.description,
                file: path,
                line: error.source.begin.line,
                column: error.source.begin.column
            )
        } catch {
            throw ConfdError(.malformedResource, "not a TOML document", file: path)
        }
        guard let table = document["template"]?.table else {
            throw ConfdError(.malformedResource, "the file has no [template] table", file: path)
        }
        var values: [String: any TOMLValueConvertible] = [:]
        for (key, value) in table { values[key] = value }
        self.values = values
    }

    func requiredString(_ name: String) throws(ConfdError) -> String {
        guard let value = try self.string(name) else {
            throw ConfdError(.malformedResource, "[template] has no \(name)", file: self.path)
        }
        return value
    }

    func string(_ name: String) throws(ConfdError) -> String? {
        guard let value = self.values[name] else { return nil }
        guard let string = value.string else { throw self.wrongType(name, expected: "a string") }
        return string
    }

    func integer(_ name: String) throws(ConfdError) -> Int? {
        guard let value = self.values[name] else { return nil }
        guard let integer = value.int else { throw self.wrongType(name, expected: "an integer") }
        return integer
    }

    func requiredStrings(_ name: String) throws(ConfdError) -> [String] {
        guard let value = self.values[name] else {
            throw ConfdError(.malformedResource, "[template] has no \(name)", file: self.path)
        }
        guard let array = value.array else { throw self.wrongType(name, expected: "an array of strings") }
        var strings: [String] = []
        for element in array {
            guard let string = element.string else { throw self.wrongType(name, expected: "an array of strings") }
            strings.append(string)
        }
        guard !strings.isEmpty else {
            throw ConfdError(.malformedResource, "\(name) is empty", file: self.path, line: self.line(of: name))
        }
        return strings
    }

    /// `mode` as octal text (`"0644"`, `"644"`), or an integer written as such (`0o644`, `420`).
    func mode() throws(ConfdError) -> UInt32? {
        guard let value = self.values["mode"] else { return nil }
        if let integer = value.int, (0...0o7777).contains(integer) { return UInt32(integer) }
        if let text = value.string, let mode = UInt32(text, radix: 8), mode <= 0o7777 { return mode }
        throw self.wrongType("mode", expected: "permission bits in octal, such as \"0644\"")
    }

    private func wrongType(_ name: String, expected: String) -> ConfdError {
        ConfdError(.malformedResource, "\(name) must be \(expected)", file: self.path, line: self.line(of: name))
    }

    /// The first line that assigns `name` (TOMLKit keeps no positions for values).
    func line(of name: String) -> Int? {
        for (index, line) in self.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix(name) else { continue }
            let rest = trimmed.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
            if rest.first == "=" { return index + 1 }
        }
        return nil
    }
}
