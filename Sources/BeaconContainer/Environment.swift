// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconExpression
import Foundation

/// `NAME` or `int:NAME` (processors applied right to left, as Symfony's `int:json:NAME`).
struct EnvironmentReference: Sendable {
    /// Processors, outermost first.
    let processors: [String]
    /// The variable name.
    let name: String

    static let knownProcessors: Set<String> = ["string", "int", "float", "bool", "not", "json", "csv", "trim"]

    init(processors: [String], name: String) {
        self.processors = processors
        self.name = name
    }

    /// Parses `int:NAME`; throws for an unknown processor.
    init(parsing text: String) throws(ContainerError) {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts.removeLast()
        for processor in parts where !Self.knownProcessors.contains(processor) {
            throw ContainerError(
                .invalidDefinition,
                "Unsupported env var prefix \"\(processor)\" for env name \"\(name)\"."
            )
        }
        guard !name.isEmpty else {
            throw ContainerError(.invalidDefinition, "Invalid env name \"\(text)\": the name is empty.")
        }
        self.processors = parts
        self.name = name
    }
}

/// Where environment variables come from: the process, or a fixed table (tests).
struct Environment: Sendable {
    let table: [String: String]?

    func raw(_ name: String) -> String? {
        if let table {
            return table[name]
        }
        return ProcessInfo.processInfo.environment[name]
    }

    /// The variable through its processors; errors name the variable, never its value.
    func value(_ reference: EnvironmentReference) throws(ContainerError) -> ExpressionValue {
        guard let raw = raw(reference.name) else {
            throw ContainerError(
                .environmentNotFound,
                "Environment variable not found: \"\(reference.name)\"."
            )
        }
        var value = ExpressionValue.string(raw)
        for processor in reference.processors.reversed() {
            value = try Self.process(value, with: processor, name: reference.name)
        }
        return value
    }

    /// `Container::getEnv()` with a processor string such as `int:PORT`: the part before the first `:` is the
    /// processor, the rest is read first (so a missing variable is reported before an unknown processor).
    func value(named text: String) throws(ContainerError) -> ExpressionValue {
        guard let colon = text.firstIndex(of: ":") else {
            return try value(EnvironmentReference(processors: [], name: text))
        }
        let processor = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        let inner = try value(named: rest)
        guard EnvironmentReference.knownProcessors.contains(processor) else {
            throw ContainerError(
                .environmentProcessing,
                "Unsupported env var prefix \"\(processor)\" for env name \"\(rest)\"."
            )
        }
        return try Self.process(inner, with: processor, name: rest)
    }

    private static func text(_ value: ExpressionValue) -> String {
        if case .string(let string) = value { return string.description }
        return (try? ExpressionLanguage.string(value).description) ?? ""
    }

    private static func process(
        _ value: ExpressionValue,
        with processor: String,
        name: String
    ) throws(ContainerError) -> ExpressionValue {
        let raw = text(value)
        switch processor {
        case "string":
            return .string(raw)
        case "trim":
            return .string(raw.trimmingCharacters(in: .whitespacesAndNewlines))
        case "int", "float":
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            guard let number = Double(trimmed), trimmed.rangeOfCharacter(from: .letters.subtracting(["e", "E"])) == nil
            else {
                throw ContainerError(
                    .environmentProcessing,
                    "Non-numeric env var \"\(name)\" cannot be cast to \(processor)."
                )
            }
            if processor == "float" {
                return .float(number)
            }
            if let integer = Int(trimmed) {
                return .int(integer)
            }
            return .int(number.isFinite && abs(number) < 9.2e18 ? Int(number) : 0)
        case "bool", "not":
            let lowered = raw.trimmingCharacters(in: .whitespaces).lowercased()
            var flag = ["1", "true", "on", "yes"].contains(lowered)
            if !flag, let number = Double(lowered) {
                flag = number != 0
            }
            return .bool(processor == "bool" ? flag : !flag)
        case "json":
            return try json(raw, name: name)
        default:
            return csv(raw)
        }
    }

    private static func json(_ raw: String, name: String) throws(ContainerError) -> ExpressionValue {
        guard let json = try? JSONReader.parse(Array(raw.utf8)), let value = fromJSON(json) else {
            throw ContainerError(
                .environmentProcessing,
                "Invalid JSON in env var \"\(name)\": Syntax error"
            )
        }
        switch value {
        case .array, .null: return value
        default:
            throw ContainerError(
                .environmentProcessing,
                "Invalid JSON env var \"\(name)\": array or null expected, \"\(value.typeName)\" given."
            )
        }
    }

    /// The value `json_decode()` gives (objects as arrays, their members in key order, the last of a repeated
    /// member winning); `nil` for a number too large for a float.
    private static func fromJSON(_ json: JSONValue) -> ExpressionValue? {
        switch json {
        case .null:
            return .null
        case .bool(let flag):
            return .bool(flag)
        case .string(let string):
            return .string(string)
        case .number(let text):
            return number(text)
        case .array(let elements):
            var list: [ExpressionValue] = []
            for element in elements {
                guard let value = fromJSON(element) else { return nil }
                list.append(value)
            }
            return .list(list)
        case .object(let members):
            var latest: [String: JSONValue] = [:]
            for member in members { latest[member.key] = member.value }
            var array = ExpressionArray()
            for (key, member) in latest.sorted(by: { $0.key < $1.key }) {
                guard let value = fromJSON(member) else { return nil }
                array[ExpressionArrayKey(normalizing: ExpressionString(key))] = value
            }
            return .array(array)
        }
    }

    /// A JSON number as PHP's `json_decode` makes it: an integer without `.` or `e` that fits 64 bits, a float
    /// otherwise (a larger integer too).
    private static func number(_ text: String) -> ExpressionValue? {
        if !text.contains(".") && !text.contains("e") && !text.contains("E"), let integer = Int64(text) {
            return .int(Int(integer))
        }
        guard let float = Double(text), float.isFinite else { return nil }
        return .float(float)
    }

    /// `str_getcsv()` with `,` and `"`: a list of strings.
    private static func csv(_ raw: String) -> ExpressionValue {
        if raw.isEmpty {
            return .list([.null])
        }
        var fields: [ExpressionValue] = []
        var field = ""
        var quoted = false
        var characters = Array(raw)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" && field.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(.string(field))
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(.string(field))
        return .list(fields)
    }
}
