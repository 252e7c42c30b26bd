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
        // ASCII text without carriage returns (the usual file): every byte is one `Character`, so scanning the bytes
        // makes the same decisions as scanning the characters, at a fraction of the cost.
        let bytes = Array(text.utf8)
        if bytes.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) {
            guard bytes.contains(UInt8(ascii: "%")) else { return text }
            return String(decoding: quote(units: bytes), as: UTF8.self)
        }
        guard text.contains("%") else { return text }
        return String(quote(units: Array(text)))
    }

    /// Quotes the `%` scalars of the text's lines, as bytes or as characters.
    private static func quote<Unit: ScalarUnit>(units text: [Unit]) -> [Unit] {
        let newline = Unit(ascii: "\n")
        var output: [Unit] = []
        output.reserveCapacity(text.count + text.count / 16)
        var flowDepth = 0
        /// The indentation of the line that opened a block scalar, while its content lines are skipped.
        var blockScalarIndent: Int?
        var isFirstLine = true
        for line in text.split(separator: newline, omittingEmptySubsequences: false) {
            if !isFirstLine {
                output.append(newline)
            }
            isFirstLine = false
            let space = Unit(ascii: " ")
            let indent = line.prefix(while: { $0 == space }).count
            if let parentIndent = blockScalarIndent {
                if line.allSatisfy({ $0 == space }) || indent > parentIndent {
                    output += line
                    continue
                }
                blockScalarIndent = nil
            }
            let (depth, opensBlockScalar) = quoteLine(line, flowDepth: flowDepth, into: &output)
            flowDepth = depth
            if opensBlockScalar {
                blockScalarIndent = indent
            }
        }
        return output
    }

    /// Appends one line with its `%` scalars quoted; returns the flow depth after it, and whether it opens a block
    /// scalar.
    private static func quoteLine<Unit: ScalarUnit>(
        _ characters: ArraySlice<Unit>,
        flowDepth: Int,
        into result: inout [Unit]
    ) -> (Int, Bool) {
        let space = Unit(ascii: " ")
        let tab = Unit(ascii: "\t")
        var depth = flowDepth
        var index = characters.startIndex
        /// Whether a plain scalar may start here: after `[`, `{`, `,`, `: ` or a block `- `, or at the line start.
        var scalarMayStart = true
        var opensBlockScalar = false
        while index < characters.endIndex {
            let character = characters[index]
            let followedBySpace = index + 1 == characters.endIndex || characters[index + 1] == space
            if character == space || character == tab {
                result.append(character)
            } else if character == Unit(ascii: "#")
                && (index == characters.startIndex || characters[index - 1] == space || characters[index - 1] == tab)
            {
                result += characters[index...]
                return (depth, false)
            } else if (character == Unit(ascii: "'") || character == Unit(ascii: "\"")) && scalarMayStart {
                let end = closingQuote(characters, from: index)
                result += characters[index..<end]
                index = end
                scalarMayStart = false
                continue
            } else if character == Unit(ascii: "[") || character == Unit(ascii: "{")
                || character == Unit(ascii: "'") || character == Unit(ascii: "\"")
            {
                // A quote where no scalar may start counts as an opening bracket, as it always has here.
                depth += 1
                scalarMayStart = true
                result.append(character)
            } else if character == Unit(ascii: "]") || character == Unit(ascii: "}") {
                depth = max(0, depth - 1)
                scalarMayStart = false
                result.append(character)
            } else if character == Unit(ascii: ",") {
                scalarMayStart = depth > 0
                result.append(character)
            } else if character == Unit(ascii: ":") && followedBySpace {
                scalarMayStart = true
                result.append(character)
            } else if character == Unit(ascii: "-") && scalarMayStart && followedBySpace {
                result.append(character)
            } else if character == Unit(ascii: "%") && scalarMayStart {
                let end = plainScalarEnd(characters, from: index, inFlow: depth > 0)
                let quote = Unit(ascii: "'")
                result.append(quote)
                for unit in characters[index..<end] {
                    result.append(unit)
                    if unit == quote {
                        result.append(quote)
                    }
                }
                result.append(quote)
                index = end
                scalarMayStart = false
                continue
            } else if scalarMayStart {
                // Another plain scalar: copied whole. A block scalar header (`|`, `>-`, `|2`) opens a block.
                let end = plainScalarEnd(characters, from: index, inFlow: depth > 0)
                let scalar = characters[index..<end]
                if depth == 0, character == Unit(ascii: "|") || character == Unit(ascii: ">"),
                    scalar.dropFirst().allSatisfy({
                        $0 == Unit(ascii: "-") || $0 == Unit(ascii: "+") || $0.isNumber
                    })
                {
                    opensBlockScalar = true
                }
                result += scalar
                index = end
                scalarMayStart = false
                continue
            } else {
                result.append(character)
            }
            index += 1
        }
        return (depth, opensBlockScalar)
    }

    /// The index after the quote that closes the string opening at `start` (or the line's end).
    private static func closingQuote<Unit: ScalarUnit>(_ characters: ArraySlice<Unit>, from start: Int) -> Int {
        let quote = characters[start]
        let isDouble = quote == Unit(ascii: "\"")
        var index = start + 1
        while index < characters.endIndex {
            if isDouble && characters[index] == Unit(ascii: "\\") {
                index += 2
                continue
            }
            if characters[index] == quote {
                if !isDouble && index + 1 < characters.endIndex && characters[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return characters.endIndex
    }

    /// The index where a plain scalar starting at `start` ends: before `: `, ` #`, and in a flow collection before
    /// `,`, `]` or `}`; trailing blanks are not part of it.
    private static func plainScalarEnd<Unit: ScalarUnit>(
        _ characters: ArraySlice<Unit>,
        from start: Int,
        inFlow: Bool
    ) -> Int {
        let space = Unit(ascii: " ")
        let tab = Unit(ascii: "\t")
        var index = start
        while index < characters.endIndex {
            let character = characters[index]
            if inFlow
                && (character == Unit(ascii: ",") || character == Unit(ascii: "]") || character == Unit(ascii: "}"))
            {
                break
            }
            if character == Unit(ascii: ":") && (index + 1 == characters.endIndex || characters[index + 1] == space) {
                break
            }
            if character == Unit(ascii: "#") && index > start
                && (characters[index - 1] == space || characters[index - 1] == tab)
            {
                break
            }
            index += 1
        }
        while index > start && (characters[index - 1] == space || characters[index - 1] == tab) {
            index -= 1
        }
        return index
    }
}

/// What ``LegacyPercentScalars`` scans: UTF-8 bytes of ASCII text, or characters.
private protocol ScalarUnit: Equatable {
    /// The unit of an ASCII character.
    init(ascii scalar: Unicode.Scalar)
    /// Whether the unit is a digit (`Character.isNumber`).
    var isNumber: Bool { get }
}

extension UInt8: ScalarUnit {
    fileprivate var isNumber: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}

extension Character: ScalarUnit {
    fileprivate init(ascii scalar: Unicode.Scalar) {
        self.init(scalar)
    }
}
