// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import Foundation
import Testing

/// The examples of Documentation/Confd.md, read from the guide itself: each ```keys block, the ```mustache block
/// after it and the ```output block after that.
@Suite("Documentation/Confd.md")
struct ConfdGuideTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var keys: [String: String]
        var template: String
        var output: String
        var testDescription: String { String(self.template.prefix(40)) }
    }

    static let guide: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/BeaconConfdTests/ConfdGuideTests.swift
        return (try? String(contentsOfFile: parts.joined(separator: "/") + "/Documentation/Confd.md", encoding: .utf8))
            ?? ""
    }()

    /// The fenced blocks of the guide, as (language, text).
    static var blocks: [(language: String, text: String)] {
        var blocks: [(String, String)] = []
        var current: (language: String, lines: [Substring])?
        for line in self.guide.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let open = current {
                    blocks.append((open.language, open.lines.joined(separator: "\n") + "\n"))
                    current = nil
                } else {
                    current = (String(line.dropFirst(3)), [])
                }
            } else {
                current?.lines.append(line)
            }
        }
        return blocks
    }

    static var examples: [Example] {
        let blocks = self.blocks
        var examples: [Example] = []
        for index in blocks.indices where blocks[index].language == "keys" && index + 2 < blocks.count {
            guard blocks[index + 1].language == "mustache", blocks[index + 2].language == "output" else { continue }
            var keys: [String: String] = [:]
            for line in blocks[index].text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                keys[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
            }
            examples.append(Example(keys: keys, template: blocks[index + 1].text, output: blocks[index + 2].text))
        }
        return examples
    }

    @Test("the guide has its three examples")
    func count() {
        #expect(Self.examples.count == 3)
    }

    @Test("each example renders what the guide shows", arguments: Self.examples)
    func renders(_ example: Example) throws {
        let template = try ConfdTemplate(text: example.template, path: "Documentation/Confd.md")
        #expect(try template.render(TemplateData(values: example.keys)) == example.output)
    }

    @Test("the quick start's template renders the story's upstream")
    func quickStart() throws {
        let nginx = try #require(Self.blocks.first { $0.language == "nginx" && $0.text.contains("{{#values(test)}}") })
        let rendered = try ConfdTemplate(text: nginx.text, path: "nginx.conf.tmpl").render(
            TemplateData(values: ["/test/apache-8001": "127.0.0.1:8001", "/test/apache-8002": "127.0.0.1:8002"])
        )
        let expected = try #require(Self.blocks.first { $0.language == "nginx" && $0.text.hasPrefix("    upstream") })
        #expect(rendered.contains(expected.text))
    }
}
