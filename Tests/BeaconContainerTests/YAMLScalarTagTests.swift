// SPDX-License-Identifier: Apache-2.0

import Testing
import Yams

@testable import BeaconContainer

@Suite("YAML scalar types")
struct YAMLScalarTagTests {
    /// Texts around every rule of Yams's default resolver, and strings that start with each character class.
    static let texts: [String] = [
        "", "~", "null", "Null", "NULL", "nULL", "nil", "none",
        "yes", "Yes", "YES", "yEs", "no", "No", "NO", "true", "True", "TRUE", "tRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "y", "n", "t", "f", "o", "once",
        "0", "1", "-1", "+1", "012", "0o17", "0b101", "0x1F", "-0x1f", "1_000", "1:30", "190:20:30", "08",
        "1.5", "-1.5", ".5", "1e3", "1.0e+3", ".inf", "-.Inf", ".NaN", "1.2.3", "+", "-", ".", "..",
        "<<", "<", "=", "==", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
        "@service", "@=service('a').getName()", "%param%", "TreeNode", "hello world", "é", "Ünïcode", " lead",
        "127.0.0.1", "1.2.3.4:5432", "0.0.0.0", "-dash", "+plus", "~tilde", "yesterday", "nothing", "offset",
    ]

    @Test("a plain scalar's type is the default resolver's")
    func plainScalars() throws {
        for text in Self.texts {
            let node = Node.scalar(Node.Scalar(text, Tag(.implicit), .plain))
            #expect(YAMLScalarTag.name(of: node) == Yams.Resolver.default.resolveTag(of: node), "\(text)")
        }
    }

    @Test("quoted and explicitly tagged scalars keep their tag")
    func quotedAndTagged() throws {
        let root = try #require(
            try Yams.compose(yaml: "a: 'true'\nb: \"1\"\nc: !!str 5\nd: !!int '7'\ne: 5\n", Yams.Resolver.basic)
        )
        let mapping = try #require(root.mapping)
        let names = mapping.map { YAMLScalarTag.name(of: $0.value) }
        #expect(names == [.str, .str, .str, .int, .int])
    }
}

@Suite("YAML duplicate keys")
struct YAMLDuplicateKeyTests {
    @Test("a key written twice in a mapping is refused with file, line and key, and without the file's text")
    func duplicateKey() throws {
        let yaml = "parameters:\n    secret: hunter2\n    port: 1\n    'port': 2\n"
        var builder = ContainerBuilder()
        let error = try #require(throws: ContainerError.self) { try builder.loadYAML(yaml, file: "app.yaml") }
        #expect(error.code == .invalidYAML)
        #expect(error.file == "app.yaml")
        #expect(error.line == 3)
        #expect(error.message.contains("\"port\""))
        #expect(!error.message.contains("hunter2"))
        #expect(!"\(error)".contains("hunter2"))
        #expect(error.underlying == nil)
    }
}
