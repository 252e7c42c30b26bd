// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import Foundation
import Testing

@Suite("Reading confd resource files")
struct ResourceFilesTests {
    @Test("The story's resource file, unchanged")
    func storyResource() throws {
        let resource = try TemplateResource(
            parsing: """
                [template]
                src = "nginx.conf.tmpl"
                dest = "/etc/nginx/nginx.conf"
                keys = [
                    "/test",
                ]
                reload_cmd = "/usr/bin/docker kill -s HUP nginx.service"

                """,
            path: "/etc/confd/conf.d/nginx.toml",
            templateDirectory: "/etc/confd/templates"
        )
        #expect(resource.source == "/etc/confd/templates/nginx.conf.tmpl")
        #expect(resource.destination == "/etc/nginx/nginx.conf")
        #expect(resource.keys == ["/test"])
        #expect(resource.reloadCommand == "/usr/bin/docker kill -s HUP nginx.service")
        #expect(resource.checkCommand == nil)
        #expect(resource.mode == nil)
        #expect(resource.fullKeys(globalPrefix: "") == ["/test"])
    }

    @Test("Every field, and both prefixes")
    func allFields() throws {
        let resource = try TemplateResource(
            parsing: """
                [template]
                src = "/srv/t.tmpl"
                dest = "/tmp/out.conf"
                keys = ["nginx", "/shared/"]
                prefix = "/production"
                owner = "root"
                group = "0"
                mode = "0600"
                check_cmd = "nginx -t -c {{.src}}"
                reload_cmd = "nginx -s reload"
                unknown_field = 1
                """,
            path: "r.toml",
            templateDirectory: "/etc/confd/templates"
        )
        #expect(resource.source == "/srv/t.tmpl")
        #expect(resource.mode == 0o600)
        #expect(resource.owner == "root")
        #expect(resource.group == "0")
        #expect(resource.fullKeys(globalPrefix: "/eu/") == ["/eu/production/nginx", "/eu/production/shared"])
        #expect(resource.effectivePrefix(globalPrefix: "") == "/production")
    }

    @Test("Malformed TOML: the error names the file and the line")
    func malformedTOML() {
        let error = #expect(throws: ConfdError.self) {
            try TemplateResource(
                parsing: "[template]\nsrc = \"a\"\ndest = \"b\"\nkeys = [\"/test\"\n",
                path: "conf.d/nginx.toml",
                templateDirectory: "t"
            )
        }
        #expect(error?.code == .malformedResource)
        #expect(error?.file == "conf.d/nginx.toml")
        #expect(error?.line == 5 || error?.line == 4)
        #expect(error?.description.hasPrefix("malformed resource: conf.d/nginx.toml:") == true)
    }

    @Test(
        "TOML that aborts toml++ 3.4.0 (bad header names, bad date-times, a missing array value) is an error",
        arguments: [
            "[\n", "[template]\nsrc = \"a\"\n[[\n", "[=]\n", "[[[a]]]\n", "[ .a]\n", "x = 1979-05-27T!7:32:00Z\n",
            "[template]\nx = [1, 1979-05-27t]\n",
            "x = 1979-05-27Tx = 1\n", "x = 1979-05-27 0\n", "x = [1979-05-27 0]\n", "x = [}]\n",
            // Anything toml++ takes for a date (ten characters, `-` fourth and seventh), found by the fuzzer.
            "o=1979-05-2= 0\n", "x = 1979-05-2a 0\n", "x = 1979-05-2é 0\n", "d = 1__974-79-05 9\n",
            "[template]\nkeys = [\n  \"/a\",\n}\"\n",
        ]
    )
    func tomlThatAbortsTheParser(text: String) {
        let error = #expect(throws: ConfdError.self) {
            try TemplateResource(parsing: text, path: "conf.d/nginx.toml", templateDirectory: "t")
        }
        #expect(error?.code == .malformedResource)
        #expect(error?.line == text.split(separator: "\n").count)
    }

    @Test("Brackets inside values, strings and comments, and keys spelled like dates, parse as before")
    func bracketsInsideValues() throws {
        let resource = try TemplateResource(
            parsing: """
                x = [
                  [
                    1
                  ],
                  [ "a", "]" ],
                ]
                y = { a = [
                [2], { b = [] } ] }
                z = \"""
                [
                \"""
                # [
                2019-01-01t = 1979-05-27T07:32:00Z
                w = [1979-05-27 07:32:00, 1979-05-27, 07:32:00]
                v = { 2019-01-01t = 1, "k" = [2019-01-01t07:00:00] }
                [2019-01-02t]
                [template]
                src = "a"
                dest = "b"
                keys = ["/k"]
                """,
            path: "conf.d/nginx.toml",
            templateDirectory: "t"
        )
        #expect(resource.keys == ["/k"])
    }

    @Test("A field of the wrong type or a missing one: the error names the field and its line")
    func wrongFields() {
        let wrongType = #expect(throws: ConfdError.self) {
            try TemplateResource(
                parsing: "[template]\nsrc = \"a\"\ndest = \"b\"\nkeys = \"/test\"\n",
                path: "r.toml",
                templateDirectory: "t"
            )
        }
        #expect(wrongType?.line == 4)
        #expect(wrongType?.message.contains("keys must be an array of strings") == true)
        let missing = #expect(throws: ConfdError.self) {
            try TemplateResource(
                parsing: "[template]\nsrc = \"a\"\nkeys = [\"/a\"]\n",
                path: "r.toml",
                templateDirectory: "t"
            )
        }
        #expect(missing?.message.contains("dest") == true)
        let badMode = #expect(throws: ConfdError.self) {
            try TemplateResource(
                parsing: "[template]\nsrc = \"a\"\ndest = \"b\"\nkeys = [\"/a\"]\nmode = \"rw-r--r--\"\n",
                path: "r.toml",
                templateDirectory: "t"
            )
        }
        #expect(badMode?.line == 5)
    }

    @Test("loadAll reads conf.d/*.toml in name order")
    func loadAll() throws {
        let confdir = try TemporaryDirectory()
        try confdir.write("conf.d/b.toml", "[template]\nsrc = \"b.tmpl\"\ndest = \"/tmp/b\"\nkeys = [\"/b\"]\n")
        try confdir.write("conf.d/a.toml", "[template]\nsrc = \"a.tmpl\"\ndest = \"/tmp/a\"\nkeys = [\"/a\"]\n")
        try confdir.write("conf.d/README", "not a resource")
        let resources = try TemplateResource.loadAll(confdir: confdir.path)
        #expect(resources.map(\.destination) == ["/tmp/a", "/tmp/b"])
        #expect(resources[0].source == confdir.path + "/templates/a.tmpl")
        #expect(throws: ConfdError.self) { try TemplateResource.loadAll(confdir: confdir.path + "/missing") }
    }
}

/// A directory under the system's temporary directory, deleted when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "beacon-confd-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    /// Writes a file, creating its directories.
    @discardableResult
    func write(_ relativePath: String, _ text: String) throws -> String {
        let path = self.path + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func read(_ relativePath: String) -> String? {
        try? String(contentsOfFile: self.path + "/" + relativePath, encoding: .utf8)
    }
}
