// SPDX-License-Identifier: Apache-2.0

#if YAML
internal import Yams

/// Parses YAML with Yams into a ``DocumentTree``, keeping scalars as the text they were written as.
///
/// Compiled only with the package's `YAML` trait (on by default); without it, ``FileSource`` refuses YAML files
/// with ``BeaconError/Code/unsupportedFormat``.
enum YAMLDocumentParser {
    /// Whether this build reads YAML.
    static let isAvailable = true

    static func parse(_ bytes: [UInt8]) throws(DocumentTree.SyntaxError) -> DocumentTree {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DocumentTree.SyntaxError(message: "the file is not valid UTF-8", line: 1)
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            throw Self.syntaxError(error, text: text)
        } catch {
            throw DocumentTree.SyntaxError(message: "\(error)", line: 1)
        }
        guard let node else { return .null(line: 1) }
        return try Self.convert(node)
    }

    private static func convert(_ node: Node) throws(DocumentTree.SyntaxError) -> DocumentTree {
        let line = node.mark?.line ?? 1
        switch node {
        case .scalar(let scalar):
            if node.null != nil { return .null(line: line) }
            return .text(scalar.string, line: line)
        case .sequence(let sequence):
            var items: [DocumentTree] = []
            for item in sequence { items.append(try Self.convert(item)) }
            return .list(items, line: line)
        case .mapping(let mapping):
            var members: [(key: String, value: DocumentTree, line: Int)] = []
            var seen: [String: Int] = [:]
            for (key, value) in mapping {
                let keyLine = key.mark?.line ?? line
                guard case .scalar(let keyScalar) = key else {
                    throw DocumentTree.SyntaxError(message: "a map key must be a plain value", line: keyLine)
                }
                if let first = seen[keyScalar.string] {
                    throw DocumentTree.SyntaxError(
                        message: "key \"\(keyScalar.string)\" appears twice in one map (first at line \(first))",
                        line: keyLine
                    )
                }
                seen[keyScalar.string] = keyLine
                members.append((keyScalar.string, try Self.convert(value), keyLine))
            }
            return .map(members, line: line)
        case .alias:
            throw DocumentTree.SyntaxError(message: "YAML aliases are not supported in discovery files", line: line)
        }
    }

    private static func syntaxError(_ error: YamlError, text: String) -> DocumentTree.SyntaxError {
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            return DocumentTree.SyntaxError(
                message: "key \"\(key)\" appears twice in one map (first at line \(context.mark.line))",
                line: Self.secondOccurrence(of: key, after: context.mark, in: text) ?? context.mark.line
            )
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let message = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return DocumentTree.SyntaxError(message: message, line: mark.line, column: mark.column)
        case .reader(let problem, _, _, _):
            return DocumentTree.SyntaxError(message: problem, line: 1)
        default:
            return DocumentTree.SyntaxError(message: "\(error)", line: 1)
        }
    }

    /// The line of the next key `key` at the same indentation as the one at `mark`, if one can be found.
    private static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> Int? {
        // Every line break YAML knows (LF, CR, CRLF, NEL, LS, PS), as the parser counted the mark's line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard mark.line < lines.count else { return nil }
        let indentation = String(repeating: " ", count: max(mark.column - 1, 0))
        let forms = ["\(key):", "\"\(key)\":", "'\(key)':"]
        for index in mark.line..<lines.count {
            let line = lines[index]
            guard line.hasPrefix(indentation) else { continue }
            let rest = line.dropFirst(indentation.count)
            if forms.contains(where: { rest.hasPrefix($0) }) { return index + 1 }
        }
        return nil
    }
}
#else
/// Stands in for the YAML parser when the package's `YAML` trait is disabled: Yams is not linked.
enum YAMLDocumentParser {
    /// Whether this build reads YAML.
    static let isAvailable = false
}
#endif
