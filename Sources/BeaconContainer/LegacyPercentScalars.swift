// SPDX-License-Identifier: Apache-2.0

/// Quotes the plain scalars that start with `%`, as Symfony's YAML files of the 2.x era wrote parameters:
/// `arguments: [%discovery_service_endpoint%, %kernel.cache_dir%]`.
///
/// YAML reserves `%` at the start of a plain scalar for directives, so a conforming parser rejects that line;
/// Symfony's own parser accepted it until 3.1 and only deprecated it afterwards, and many files still have it.
/// Each such scalar is wrapped in single quotes on its own line, so line numbers in errors stay right. Quoted
/// strings, comments and block scalars (`|`, `>`) are left alone.
enum LegacyPercentScalars {
    static func quote(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var output: [Substring] = []
        var flowDepth = 0
        /// The indentation of the line that opened a block scalar, while its content lines are skipped.
        var blockScalarIndent: Int?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix(while: { $0 == " " }).count
            if let parentIndent = blockScalarIndent {
                if line.allSatisfy({ $0 == " " }) || indent > parentIndent {
                    output.append(line)
                    continue
                }
                blockScalarIndent = nil
            }
            let (quoted, depth, opensBlockScalar) = quoteLine(line, flowDepth: flowDepth)
            flowDepth = depth
            if opensBlockScalar {
                blockScalarIndent = indent
            }
            output.append(quoted)
        }
        return output.joined(separator: "\n")
    }

    /// Quotes the `%` scalars of one line; returns the line, the flow depth after it, and whether it opens a
    /// block scalar.
    private static func quoteLine(_ line: Substring, flowDepth: Int) -> (Substring, Int, Bool) {
        let characters = Array(line)
        var result = ""
        var depth = flowDepth
        var index = 0
        /// Whether a plain scalar may start here: after `[`, `{`, `,`, `: ` or a block `- `, or at the line start.
        var scalarMayStart = true
        var opensBlockScalar = false
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t":
                result.append(character)
            case "#" where index == 0 || characters[index - 1] == " " || characters[index - 1] == "\t":
                result += String(characters[index...])
                return (Substring(result), depth, false)
            case "'", "\"":
                guard scalarMayStart else { fallthrough }
                let end = closingQuote(characters, from: index)
                result += String(characters[index..<end])
                index = end
                scalarMayStart = false
                continue
            case "[", "{":
                depth += 1
                scalarMayStart = true
                result.append(character)
            case "]", "}":
                depth = max(0, depth - 1)
                scalarMayStart = false
                result.append(character)
            case ",":
                scalarMayStart = depth > 0
                result.append(character)
            case ":" where index + 1 == characters.count || characters[index + 1] == " ":
                scalarMayStart = true
                result.append(character)
            case "-" where scalarMayStart && (index + 1 == characters.count || characters[index + 1] == " "):
                result.append(character)
            case "%" where scalarMayStart:
                let end = plainScalarEnd(characters, from: index, inFlow: depth > 0)
                let scalar = String(characters[index..<end])
                result += "'" + scalar.replacingAll("'", with: "''") + "'"
                index = end
                scalarMayStart = false
                continue
            default:
                if scalarMayStart {
                    // Another plain scalar: copied whole. A block scalar header (`|`, `>-`, `|2`) opens a block.
                    let end = plainScalarEnd(characters, from: index, inFlow: depth > 0)
                    let scalar = characters[index..<end]
                    if depth == 0, character == "|" || character == ">",
                        scalar.dropFirst().allSatisfy({ $0 == "-" || $0 == "+" || $0.isNumber })
                    {
                        opensBlockScalar = true
                    }
                    result += String(scalar)
                    index = end
                    scalarMayStart = false
                    continue
                }
                result.append(character)
            }
            index += 1
        }
        return (Substring(result), depth, opensBlockScalar)
    }

    /// The index after the quote that closes the string opening at `start` (or the line's end).
    private static func closingQuote(_ characters: [Character], from start: Int) -> Int {
        let quote = characters[start]
        var index = start + 1
        while index < characters.count {
            if quote == "\"" && characters[index] == "\\" {
                index += 2
                continue
            }
            if characters[index] == quote {
                if quote == "'" && index + 1 < characters.count && characters[index + 1] == "'" {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return characters.count
    }

    /// The index where a plain scalar starting at `start` ends: before `: `, ` #`, and in a flow collection before
    /// `,`, `]` or `}`; trailing blanks are not part of it.
    private static func plainScalarEnd(_ characters: [Character], from start: Int, inFlow: Bool) -> Int {
        var index = start
        while index < characters.count {
            let character = characters[index]
            if inFlow && (character == "," || character == "]" || character == "}") {
                break
            }
            if character == ":" && (index + 1 == characters.count || characters[index + 1] == " ") {
                break
            }
            if character == "#" && index > start && (characters[index - 1] == " " || characters[index - 1] == "\t") {
                break
            }
            index += 1
        }
        while index > start && (characters[index - 1] == " " || characters[index - 1] == "\t") {
            index -= 1
        }
        return index
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target {
                result += replacement
            } else {
                result.append(character)
            }
        }
        return result
    }
}
