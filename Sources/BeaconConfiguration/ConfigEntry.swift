// SPDX-License-Identifier: Apache-2.0

import Beacon
import Configuration

/// One discovered value, ready to be read as any `ConfigType`.
///
/// Scalars are parsed once, when the snapshot holding the entry is built, so a read of an int, a double or a bool
/// is a lookup; strings are served as stored; arrays and bytes are decoded on each read (their result is a new
/// array anyway).
///
/// Encodings: scalars are text (`8080`, `2.5`, `true`); arrays are a JSON array (`["a", "b"]`, `[1, 2]`); bytes
/// are base64; an array of byte chunks is a JSON array of base64 strings. Surrounding white space is ignored
/// except for strings, which are served exactly as stored.
struct ConfigEntry: Sendable {
    /// The discovery key.
    let key: String
    /// The value as text, exactly as stored (invalid UTF-8 becomes U+FFFD).
    let text: String
    /// Whether the value is secret: marked in the `ConfigValue`, never quoted in errors.
    let isSecret: Bool
    private let trimmed: Substring
    private let int: Int?
    private let double: Double?
    private let bool: Bool?

    init(_ entry: KeyValue, isSecret: Bool) {
        self.key = entry.key
        self.text = entry.string
        self.isSecret = isSecret
        self.trimmed = Self.trim(self.text[...])
        self.int = Int(self.trimmed)
        self.double = Double(self.trimmed)
        self.bool = Self.parseBool(self.trimmed)
    }

    /// The value as a configuration value of the given type.
    ///
    /// - Parameters:
    ///   - type: The type the reader asked for.
    ///   - configKey: The configuration key, for the error message.
    /// - Returns: The typed value.
    /// - Throws: `BeaconError` with code `invalidValue` when the value cannot be read as `type`; it names the key,
    ///   and quotes the text unless the value is secret.
    func value(as type: ConfigType, configKey: [String]) throws(BeaconError) -> ConfigValue {
        ConfigValue(try self.content(as: type, configKey: configKey), isSecret: self.isSecret)
    }

    private func content(as type: ConfigType, configKey: [String]) throws(BeaconError) -> ConfigContent {
        switch type {
        case .string:
            return .string(self.text)
        case .int:
            guard let int = self.int else { throw self.mismatch("an integer", configKey) }
            return .int(int)
        case .double:
            guard let double = self.double else { throw self.mismatch("a number", configKey) }
            return .double(double)
        case .bool:
            guard let bool = self.bool else { throw self.mismatch("a boolean (true or false)", configKey) }
            return .bool(bool)
        case .bytes:
            guard let bytes = Base64.decode(self.trimmed) else { throw self.mismatch("base64 bytes", configKey) }
            return .bytes(bytes)
        case .stringArray:
            return .stringArray(try self.items("a JSON array of strings", configKey) { $0 })
        case .intArray:
            return .intArray(try self.items("a JSON array of integers", configKey) { Int($0) })
        case .doubleArray:
            return .doubleArray(try self.items("a JSON array of numbers", configKey) { Double($0) })
        case .boolArray:
            return .boolArray(try self.items("a JSON array of booleans", configKey) { Self.parseBool($0[...]) })
        case .byteChunkArray:
            return .byteChunkArray(try self.items("a JSON array of base64 strings", configKey) { Base64.decode($0) })
        }
    }

    /// Parses the value as a JSON array of scalars and converts each item.
    private func items<Item>(
        _ expected: String,
        _ configKey: [String],
        _ convert: (String) -> Item?
    ) throws(BeaconError) -> [Item] {
        let json: JSONValue
        do {
            json = try JSONReader.parse(Array(self.trimmed.utf8), rejectingDuplicateKeys: true)
        } catch {
            let position = "line \(error.line ?? 1), column \(error.column ?? 1)"
            throw self.mismatch(expected, configKey, detail: "\(position): \(error.message)")
        }
        guard case .array(let nodes) = json else { throw self.mismatch(expected, configKey) }
        var items: [Item] = []
        items.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            guard let text = node.scalarText, let item = convert(text) else {
                throw self.mismatch(expected, configKey, detail: "item \(index) is not one")
            }
            items.append(item)
        }
        return items
    }

    /// The error for a value that is not of the requested type.
    private func mismatch(_ expected: String, _ configKey: [String], detail: String? = nil) -> BeaconError {
        var message = "expected \(expected) for configuration key \"\(configKey.joined(separator: "."))\""
        if self.isSecret {
            // The parser's detail can quote a character of the value: leave it out with the text.
            message += " (the value is secret and not shown)"
        } else if let detail {
            message += " (\(detail))"
        }
        return BeaconError(.invalidValue, message, key: self.key, text: self.isSecret ? nil : self.text)
    }

    private static func trim(_ text: Substring) -> Substring {
        func isSpace(_ character: Character) -> Bool {
            character == " " || character == "\t" || character == "\n" || character == "\r" || character == "\r\n"
        }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        let last = text.lastIndex(where: { !isSpace($0) })!
        return text[first...last]
    }

    /// `true`, `yes` or `1`; `false`, `no` or `0`; letters in any case (as swift-configuration's environment
    /// provider reads booleans).
    private static func parseBool(_ text: Substring) -> Bool? {
        func matches(_ word: StaticString) -> Bool {
            let utf8 = text.utf8
            guard utf8.count == word.utf8CodeUnitCount else { return false }
            return word.withUTF8Buffer { expected in
                zip(utf8, expected).allSatisfy { actual, expected in
                    actual == expected || (actual >= 0x41 && actual <= 0x5A && actual + 0x20 == expected)
                }
            }
        }
        if matches("true") || matches("yes") || matches("1") { return true }
        if matches("false") || matches("no") || matches("0") { return false }
        return nil
    }
}
