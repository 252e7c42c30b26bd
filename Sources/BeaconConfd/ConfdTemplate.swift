// SPDX-License-Identifier: Apache-2.0

import Foundation
import Mustache

/// A resource's template: Mustache, rendered as plain text (no HTML escaping), strictly.
///
/// Mustache renders a name it cannot find as empty text; a configuration file with an empty server address is a
/// broken configuration. Here a key that does not exist fails the render with an error naming the key, unless the
/// template marks it optional (`{{optional(test.backup)}}`, `{{#exists(test.backup)}}…{{/exists(test.backup)}}`).
/// Documentation/Confd.md describes the data model and maps each confd template function to its equivalent.
public struct ConfdTemplate: Sendable {
    /// The template's path, for errors and logs.
    public let path: String
    private let template: MustacheTemplate

    /// The pragma put in front of every template so that values are not HTML-escaped; it is a line of its own,
    /// which Mustache removes, so the template's own line numbers only shift by one.
    private static let textPragma = "{{%CONTENT_TYPE:TEXT}}\n"

    /// Reads and parses a template file.
    ///
    /// - Parameter path: The template's path.
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/unreadableFile``, ``ConfdError/Code/goTemplate`` when
    ///   the file is still a confd Go template, or ``ConfdError/Code/invalidTemplate`` with its line and column.
    public init(contentsOf path: String) throws(ConfdError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfdError(.unreadableFile, "cannot read the template", file: path)
        }
        try self.init(text: text, path: path)
    }

    /// Parses a template's text.
    ///
    /// - Parameters:
    ///   - text: The Mustache text.
    ///   - path: A name for errors and logs.
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/goTemplate`` or ``ConfdError/Code/invalidTemplate``.
    public init(text: String, path: String) throws(ConfdError) {
        if let go = GoTemplateSyntax.firstAction(in: text) {
            throw ConfdError(
                .goTemplate,
                "the template is confd's Go template syntax (\(go.text)), and beacon-confd renders Mustache; "
                    + "Documentation/Confd.md maps each confd function to its Mustache form",
                file: path,
                line: go.line,
                column: go.column
            )
        }
        self.path = path
        do {
            self.template = try MustacheTemplate(string: Self.textPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            throw ConfdError(
                .invalidTemplate,
                Self.describe(error.error) + ": " + error.context.line.trimmingCharacters(in: .whitespaces),
                file: path,
                line: max(1, error.context.lineNumber - 1),
                column: error.context.columnNumber
            )
        } catch {
            throw ConfdError(.invalidTemplate, "not a Mustache template", file: path)
        }
    }

    /// Renders the template.
    ///
    /// - Parameter data: The keys and values to render.
    /// - Returns: The rendered text.
    /// - Throws: ``ConfdError`` for the first key the template read that does not exist (code
    ///   ``ConfdError/Code/missingKey``), a value it could not decode, or a function that does not exist; the error
    ///   names the template and the key.
    public func render(_ data: TemplateData) throws(ConfdError) -> String {
        let problems = RenderProblems()
        let text = self.template.render(TemplateKey(data: data, path: "/", problems: problems))
        if var first = problems.problems.first {
            first.file = self.path
            if problems.problems.count > 1 {
                first.message += " (and \(problems.problems.count - 1) more problem(s))"
            }
            throw first
        }
        return text
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?: "this closing tag does not match the section it closes"
        case .unfinishedName?:
            "a tag is not closed, or its name has a character names cannot have (keys are written with dots: test.apache-8001)"
        case .expectedSectionEnd?: "a section is never closed"
        case .invalidSetDelimiter?: "the set-delimiter tag is malformed"
        case .invalidConfigVariableSyntax?, .unrecognisedConfigVariable?: "the pragma tag is not understood"
        default: "the template is not valid Mustache"
        }
    }
}
