// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import ExpressionCorpusSupport
import Foundation

/// The corpus's fixture container: services, parameters and environment, with Symfony DI's messages.
final class ContainerFixture: ExpressionObject {
    let className = "Symfony\\Component\\DependencyInjection\\ContainerBuilder"
    let services: [String: ExpressionValue]
    /// Service ids in the order Symfony lists them for suggestions.
    let serviceIDs: [String]
    let parameters: [(name: String, value: ExpressionValue)]
    let environment: [String: String]

    init(
        services: [String: ExpressionValue],
        serviceIDs: [String],
        parameters: [(name: String, value: ExpressionValue)],
        environment: [String: String]
    ) {
        self.services = services
        self.serviceIDs = serviceIDs
        self.parameters = parameters
        self.environment = environment
    }

    private static func alternatives(_ name: String, among candidates: [String]) -> String {
        var found: [String] = []
        for candidate in candidates where !candidate.isEmpty && !candidate.hasPrefix(".") {
            let distance = levenshteinDistance(Array(name.utf8), Array(candidate.utf8))
            if Double(distance) <= Double(name.utf8.count) / 3 || candidate.contains(name) {
                found.append(candidate)
            }
        }
        switch found.count {
        case 0: return ""
        case 1: return " Did you mean this: \"\(found[0])\"?"
        default: return " Did you mean one of these: \"" + found.joined(separator: "\", \"") + "\"?"
        }
    }

    func service(_ id: String) throws -> ExpressionValue {
        if id == "service_container" {
            return .object(self)
        }
        if let service = services[id] {
            return service
        }
        throw FixtureError(
            className: "Symfony\\Component\\DependencyInjection\\Exception\\ServiceNotFoundException",
            message: "You have requested a non-existent service \"\(id)\"."
                + Self.alternatives(id, among: serviceIDs)
        )
    }

    func parameter(_ name: String) throws -> ExpressionValue {
        if let parameter = parameters.first(where: { $0.name == name }) {
            return parameter.value
        }
        throw FixtureError(
            className: "Symfony\\Component\\DependencyInjection\\Exception\\ParameterNotFoundException",
            message: "You have requested a non-existent parameter \"\(name)\"."
                + Self.alternatives(name, among: parameters.map(\.name))
        )
    }

    /// `Container::getEnv()` with the common env-var processors.
    func env(_ name: String) throws -> ExpressionValue {
        var prefix: String?
        var variable = name
        if let colon = name.lastIndex(of: ":") {
            prefix = String(name[..<colon])
            variable = String(name[name.index(after: colon)...])
        }
        guard let raw = environment[variable] else {
            throw FixtureError(
                className: "Symfony\\Component\\DependencyInjection\\Exception\\EnvNotFoundException",
                message: "Environment variable not found: \"\(variable)\"."
            )
        }
        let value = ExpressionValue.string(raw)
        switch prefix {
        case nil, "string":
            return value
        case "int", "float":
            guard case .string = value, (try? ExpressionLanguage.add(value, 0)) != nil,
                Double(raw.trimmingCharacters(in: .whitespaces)) != nil
            else {
                throw FixtureError(
                    className: "Symfony\\Component\\DependencyInjection\\Exception\\RuntimeException",
                    message: "Non-numeric env var \"\(variable)\" cannot be cast to \(prefix ?? "int")."
                )
            }
            let number = try ExpressionLanguage.add(value, 0)
            if prefix == "float", case .int(let integer) = number {
                return .float(Double(integer))
            }
            if prefix == "int", case .float(let double) = number {
                return .int(Int(double))
            }
            return number
        case "bool", "not":
            let lowered = raw.trimmingCharacters(in: .whitespaces).lowercased()
            var flag = ["1", "true", "on", "yes"].contains(lowered)
            if !flag, let number = Double(lowered) {
                flag = number != 0
            }
            return .bool(prefix == "bool" ? flag : !flag)
        case "trim":
            return .string(raw.trimmingCharacters(in: .whitespacesAndNewlines))
        case "json":
            let object = try JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])
            return Self.value(fromJSON: object)
        default:
            return value
        }
    }

    private static func value(fromJSON object: Any) -> ExpressionValue {
        switch object {
        case let array as [Any]:
            return .list(array.map(value(fromJSON:)))
        case let dictionary as [String: Any]:
            var array = ExpressionArray()
            for (key, element) in dictionary {
                array[ExpressionArrayKey(normalizing: ExpressionString(key))] = value(fromJSON: element)
            }
            return .array(array)
        case let string as String:
            return .string(string)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                return .bool(number.boolValue)
            }
            let double = number.doubleValue
            return double == double.rounded() && abs(double) < 9e15 ? .int(number.intValue) : .float(double)
        default:
            return .null
        }
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        ["get", "has", "getparameter", "hasparameter"].contains(lowercasedName)
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        guard let first = arguments.first else {
            throw ExpressionError(.argumentCountError, "Too few arguments")
        }
        let name = try ExpressionLanguage.string(first).description
        switch lowercasedName {
        case "get": return try service(name)
        case "has": return .bool(name == "service_container" || services[name] != nil)
        case "getparameter": return try parameter(name)
        default: return .bool(parameters.contains { $0.name == name })
        }
    }
}

/// `levenshtein()` for the fixture's suggestions.
func levenshteinDistance(_ source: [UInt8], _ target: [UInt8]) -> Int {
    if source.isEmpty { return target.count }
    if target.isEmpty { return source.count }
    var previous = Array(0...target.count)
    for (index, sourceByte) in source.enumerated() {
        var current = [index + 1]
        for (targetIndex, targetByte) in target.enumerated() {
            current.append(
                min(
                    previous[targetIndex] + (sourceByte == targetByte ? 0 : 1),
                    previous[targetIndex + 1] + 1,
                    current[targetIndex] + 1
                )
            )
        }
        previous = current
    }
    return previous[target.count]
}
