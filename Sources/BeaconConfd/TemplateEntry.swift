// SPDX-License-Identifier: Apache-2.0

import Beacon
import Mustache

/// One key in a listing (`{{#pairs(test)}}`, `{{#all(test)}}`): `{{key}}` (relative to the prefix, as confd's
/// `.Key`), `{{name}}` (its last segment, confd's `base .Key`), `{{value}}` and `{{json.field}}` (the value decoded
/// as JSON).
struct TemplateEntry: MustacheParent {
    let key: String
    let value: String
    let problems: RenderProblems

    func child(named name: String) -> Any? {
        switch name {
        case "key": self.key
        case "name": String(self.key.split(separator: "/").last ?? "")
        case "value": self.value
        case "json": TemplateJSON.decode(self.value, key: self.key, problems: self.problems) as Any?
        default: nil  // not a field: Mustache looks further out, ending at the keys
        }
    }
}

/// A registered instance in `{{#instances(services.web)}}`: `{{id}}`, `{{service}}`, `{{host}}`, `{{port}}`,
/// `{{address}}` (`host:port`, an IPv6 host in brackets), `{{weight}}`, `{{metadata.zone}}` and `{{key}}`.
struct TemplateInstance: MustacheParent {
    let key: String
    let instance: ServiceInstance

    /// Decodes a value as a ``ServiceInstance``; notes the problem and returns `nil` when it is not one.
    static func decode(key: String, value: String, problems: RenderProblems) -> TemplateInstance? {
        do {
            let instance = try ServiceInstance(decoding: KeyValue(key: key, string: value))
            return TemplateInstance(key: key, instance: instance)
        } catch {
            problems.invalid("\(key) is not a service instance (\(error.message)): \(value)", key: key)
            return nil
        }
    }

    func child(named name: String) -> Any? {
        switch name {
        case "key": self.key
        case "id": self.instance.id
        case "service": self.instance.service
        case "host": self.instance.endpoint.host
        case "port": self.instance.endpoint.port
        case "address": self.instance.endpoint.hostAndPort
        case "weight": self.instance.endpoint.weight as Any?
        case "metadata": self.instance.metadata
        default: nil
        }
    }
}
