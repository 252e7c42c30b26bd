// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Recognises a confd template that was not converted: Go's text/template actions such as `{{range getvs "/x/*"}}`,
/// `{{getv "/x"}}`, `{{end}}` or `{{.Key}}`.
///
/// `{{.}}` alone is also Mustache (the current item), so it is not taken as a sign; the actions and confd functions
/// around it are.
enum GoTemplateSyntax {
    /// Go's actions and confd's template functions, as the first word of a tag.
    private static let words: Set<Substring> = [
        "range", "end", "if", "else", "with", "define", "template", "block",
        "getv", "getvs", "get", "gets", "ls", "lsdir", "exists", "json", "jsonArray", "getenv", "base", "dir",
        "split", "join", "toUpper", "toLower", "printf", "print", "map", "lookupIP", "lookupSRV", "datetime",
    ]

    /// The first Go action in a text, with its 1-based line and column, or `nil` when there is none.
    static func firstAction(in text: String) -> (text: String, line: Int, column: Int)? {
        var line = 1
        for lineText in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var rest = lineText[...]
            while let open = rest.range(of: "{{") {
                let afterOpen = rest[open.upperBound...]
                guard let close = afterOpen.range(of: "}}") else { break }
                let inside = afterOpen[..<close.lowerBound]
                if self.isGoAction(inside) {
                    let column = lineText.distance(from: lineText.startIndex, to: open.lowerBound) + 1
                    return ("{{" + String(inside) + "}}", line, column)
                }
                rest = afterOpen[close.upperBound...]
            }
            line += 1
        }
        return nil
    }

    private static func isGoAction(_ inside: Substring) -> Bool {
        var body = inside.drop { $0 == "-" || $0 == " " || $0 == "\t" }
        while let last = body.last, last == "-" || last == " " || last == "\t" { body = body.dropLast() }
        if body.first == "$" { return true }  // {{$x := …}}, {{$}}
        if body.hasPrefix(".Key") || body.hasPrefix(".Value") { return true }
        let words = body.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first, self.words.contains(first) else { return false }
        // A Mustache name has no spaces; `{{end}}` and `{{else}}` stand alone in Go.
        return words.count > 1 || first == "end" || first == "else"
    }
}
