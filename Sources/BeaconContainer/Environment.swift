// SPDX-License-Identifier: Apache-2.0

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
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])
        } catch {
            throw ContainerError(
                .environmentProcessing,
                "Invalid JSON in env var \"\(name)\": Syntax error"
            )
        }
        let value = fromJSON(object)
        switch value {
        case .array, .null: return value
        default:
            throw ContainerError(
                .environmentProcessing,
                "Invalid JSON env var \"\(name)\": array or null expected, \"\(value.typeName)\" given."
            )
        }
    }

    private static func fromJSON(_ object: Any) -> ExpressionValue {
        switch object {
        case let array as [Any]:
            return .list(array.map(fromJSON))
        case let dictionary as [String: Any]:
            var array = ExpressionArray()
            for key in dictionary.keys.sorted() {
                array[ExpressionArrayKey(normalizing: ExpressionString(key))] = fromJSON(dictionary[key] ?? NSNull())
            }
            return .array(array)
        case let string as String:
            return .string(string)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                return .bool(number.boolValue)
            }
            let type = String(cString: number.objCType)
            return type == "d" || type == "f" ? .float(number.doubleValue) : .int(number.intValue)
        default:
            return .null
        }
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
