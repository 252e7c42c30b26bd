// SPDX-License-Identifier: Apache-2.0

import Beacon
import Mustache

/// A value decoded as JSON for a template (`{{json(test.config).port}}`, `{{#pairs(test)}}{{json.host}}{{/…}}`).
///
/// Objects are ``TemplateJSONObject``s, arrays are lists, numbers, strings and booleans render as the text they were
/// written as, and `null` renders as nothing.
enum TemplateJSON {
    /// Decodes a value; notes the problem and returns `nil` when it is not JSON.
    static func decode(_ text: String, key: String, problems: RenderProblems) -> Any? {
        let json: JSONValue
        do {
            json = try JSONReader.parse(Array(text.utf8), rejectingDuplicateKeys: true)
        } catch {
            problems.invalid(
                "the value of \(key) is not JSON (line \(error.line ?? 1): \(error.message)): \(text)",
                key: key
            )
            return nil
        }
        return self.value(of: json, key: key, path: "", problems: problems)
    }

    static func value(of json: JSONValue, key: String, path: String, problems: RenderProblems) -> Any {
        switch json {
        case .bool, .number, .string:
            json.scalarText ?? ""
        case .null:
            AbsentTemplateValue()
        case .array(let items):
            items.enumerated().map { index, item in
                self.value(of: item, key: key, path: path + "[\(index)]", problems: problems)
            }
        case .object(let fields):
            TemplateJSONObject(
                fields: fields.map { ($0.key, $0.value) },
                key: key,
                path: path,
                problems: problems
            )
        }
    }
}

/// A JSON object in a template: `{{object.field}}`; a field that does not exist fails the render unless it is
/// marked `optional(…)`. `{{#pairs(object)}}` lists its fields as `{{key}}` and `{{value}}`.
struct TemplateJSONObject: MustacheParent, MustacheCustomRenderable, MustacheTransformable {
    let fields: [(name: String, value: JSONValue)]
    /// The discovery key whose value this object is part of.
    let key: String
    /// Where the object is in that value (`.metadata`), empty for the whole value.
    let path: String
    let problems: RenderProblems

    func child(named name: String) -> Any? {
        let path = self.path.isEmpty ? name : self.path + "." + name
        guard let field = self.fields.first(where: { $0.name == name }) else {
            return MissingTemplateValue(
                what: .field(key: self.key, path: path),
                data: TemplateData(values: [:]),
                problems: self.problems
            )
        }
        return TemplateJSON.value(of: field.value, key: self.key, path: path, problems: self.problems)
    }

    var renderText: String {
        let place = self.path.isEmpty ? "the value of \(self.key)" : "field \(self.path) of the JSON at \(self.key)"
        self.problems.invalid("\(place) is a JSON object; render one of its fields instead", key: self.key)
        return ""
    }

    var isNull: Bool { false }

    func transform(_ name: String) -> Any? {
        switch name {
        case "exists": return true
        case "optional": return self
        case "pairs":
            return self.fields.map { field in
                TemplateJSONField(
                    key: field.name,
                    value: TemplateJSON.value(
                        of: field.value,
                        key: self.key,
                        path: self.path.isEmpty ? field.name : self.path + "." + field.name,
                        problems: self.problems
                    )
                )
            }
        default:
            self.problems.unknownFunction(name, on: "a JSON object at \(self.key)", key: self.key)
            return nil
        }
    }
}

/// One field of a JSON object in `{{#pairs(object)}}`: `{{key}}` and `{{value}}`.
struct TemplateJSONField: MustacheParent {
    let key: String
    let value: Any

    func child(named name: String) -> Any? {
        switch name {
        case "key": self.key
        case "value": self.value
        default: nil
        }
    }
}
