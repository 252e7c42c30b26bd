// SPDX-License-Identifier: Apache-2.0

/// A parsed JSON or YAML document, reduced to what discovery needs: maps, lists and text leaves,
/// each with the line it starts on.
package enum DocumentTree: Equatable {
    case text(String, line: Int)
    case null(line: Int)
    case list([DocumentTree], line: Int)
    case map([(key: String, value: DocumentTree, line: Int)], line: Int)

    package static func == (lhs: DocumentTree, rhs: DocumentTree) -> Bool {
        switch (lhs, rhs) {
        case (.text(let a, _), .text(let b, _)): return a == b
        case (.null, .null): return true
        case (.list(let a, _), .list(let b, _)): return a == b
        case (.map(let a, _), .map(let b, _)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The tree of a JSON value that ``JSONReader/parseDocument(_:)`` read: strings, numbers and booleans become
    /// text, each node taking its line from `lines`, the lines the reader recorded in reading order.
    ///
    /// - Parameters:
    ///   - value: The value.
    ///   - lines: The reader's lines, from the one of `value` on.
    init(json value: JSONValue, lines: inout IndexingIterator<[Int]>) {
        let line = lines.next() ?? 1
        switch value {
        case .null:
            self = .null(line: line)
        case .bool, .number, .string:
            self = .text(value.scalarText ?? "", line: line)
        case .array(let elements):
            var items: [DocumentTree] = []
            for element in elements { items.append(DocumentTree(json: element, lines: &lines)) }
            self = .list(items, line: line)
        case .object(let members):
            var entries: [(key: String, value: DocumentTree, line: Int)] = []
            for member in members {
                let keyLine = lines.next() ?? line
                entries.append((member.key, DocumentTree(json: member.value, lines: &lines), keyLine))
            }
            self = .map(entries, line: line)
        }
    }

    /// A problem found in a document, with its 1-based position.
    package struct SyntaxError: Error {
        package var message: String
        package var line: Int
        package var column: Int?
    }

    /// Flattens the tree into discovery keys.
    ///
    /// Nested map keys are joined with `/` under a leading `/` (`{"db": {"host": "x"}}` gives `/db/host`);
    /// slashes at either end of a map key are dropped, so `{"/db/": {"host": "x"}}` gives the same key.
    /// List items are keyed by their index (`/servers/0`). Nulls and empty containers produce no key.
    ///
    /// - Returns: The keys with their text values.
    /// - Throws: ``SyntaxError`` when two paths produce the same key.
    func flattened() throws(SyntaxError) -> [String: String] {
        var result: [String: String] = [:]
        var lines: [String: Int] = [:]
        try Self.flatten(self, path: "", into: &result, lines: &lines)
        return result
    }

    private static func flatten(
        _ node: DocumentTree,
        path: String,
        into result: inout [String: String],
        lines: inout [String: Int]
    ) throws(SyntaxError) {
        switch node {
        case .null:
            return
        case .text(let text, let line):
            let key = path.isEmpty ? "/" : path
            if let first = lines[key] {
                throw SyntaxError(message: "key \(key) is defined twice (first at line \(first))", line: line)
            }
            result[key] = text
            lines[key] = line
        case .list(let items, _):
            for (index, item) in items.enumerated() {
                try flatten(item, path: "\(path)/\(index)", into: &result, lines: &lines)
            }
        case .map(let members, _):
            for member in members {
                var name = Substring(member.key)
                while name.hasPrefix("/") { name = name.dropFirst() }
                while name.hasSuffix("/") { name = name.dropLast() }
                if name.isEmpty {
                    throw SyntaxError(message: "a map key is empty", line: member.line)
                }
                try flatten(member.value, path: "\(path)/\(name)", into: &result, lines: &lines)
            }
        }
    }
}
