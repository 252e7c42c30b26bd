// SPDX-License-Identifier: Apache-2.0

package import BeaconExpression
import Foundation

/// A JSON document, decoded without losing the difference between numbers and strings.
package enum CorpusJSON: Decodable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([CorpusJSON])
    case object([String: CorpusJSON])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([CorpusJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: CorpusJSON].self))
        }
    }

    package subscript(key: String) -> CorpusJSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    package var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    package var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    package var array: [CorpusJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    package var object: [String: CorpusJSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    package var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

/// Decodes the corpus's typed values into ``ExpressionValue``.
package struct TypedValueDecoder {
    package let objects: [String: any ExpressionObject]

    package init(objects: [String: any ExpressionObject]) {
        self.objects = objects
    }

    package func decode(_ json: CorpusJSON) -> ExpressionValue {
        switch json["type"]?.string {
        case "null":
            return .null
        case "bool":
            return .bool(json["value"]?.bool ?? false)
        case "int":
            if let repr = json["repr"]?.string, let value = Int(repr) {
                return .int(value)
            }
            return .int(Int(json["value"]?.number ?? 0))
        case "float":
            return .float(Self.float(json))
        case "string":
            if let hex = json["hex"]?.string {
                return .string(ExpressionString(bytes: Self.bytes(hex: hex)))
            }
            return .string(json["value"]?.string ?? "")
        case "array":
            var array = ExpressionArray()
            for entry in json["entries"]?.array ?? [] {
                guard let pair = entry.array, pair.count == 2 else { continue }
                array[Self.key(pair[0])] = decode(pair[1])
            }
            return .array(array)
        case "object":
            if let ref = json["ref"]?.string, let object = objects[ref] {
                return .object(object)
            }
            var properties: [String: ExpressionValue] = [:]
            for (name, value) in json["properties"]?.object ?? [:] {
                properties[name] = decode(value)
            }
            return .object(PlainObject(className: json["class"]?.string ?? "stdClass", properties: properties))
        default:
            return .null
        }
    }

    package static func key(_ json: CorpusJSON) -> ExpressionArrayKey {
        if case .number(let value) = json {
            return .int(Int(value))
        }
        return .string(ExpressionString(json.string ?? ""))
    }

    package static func float(_ json: CorpusJSON) -> Double {
        switch json["repr"]?.string {
        case "NAN": return .nan
        case "INF": return .infinity
        case "-INF": return -.infinity
        case let repr?: return Double(repr) ?? json["value"]?.number ?? .nan
        case nil: return json["value"]?.number ?? .nan
        }
    }

    package static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = hex.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(String([high, low]), radix: 16) ?? 0)
        }
        return bytes
    }
}
