// SPDX-License-Identifier: Apache-2.0

import Mustache

/// A key as a template sees it: `{{test.apache-8001}}` renders the value of `/test/apache-8001`, and functions apply
/// to it: `{{#values(test)}}`, `{{#pairs(test)}}`, `{{json(test.config)}}`.
///
/// A name that is not a key or a directory resolves to a ``MissingTemplateValue``, which fails the render when it is
/// used, unless the template marks it optional.
struct TemplateKey: MustacheParent, MustacheCustomRenderable, MustacheTransformable {
    let data: TemplateData
    /// The key relative to the prefix, such as `/test` (`/` for the root).
    let path: String
    let problems: RenderProblems

    // MARK: MustacheParent

    func child(named name: String) -> Any? {
        let path = KeyPath.join(self.path, name)
        guard !name.isEmpty, self.data.exists(path) else {
            return MissingTemplateValue(what: .key(path), data: self.data, problems: self.problems)
        }
        return TemplateKey(data: self.data, path: path, problems: self.problems)
    }

    // MARK: MustacheCustomRenderable

    var renderText: String {
        guard let value = self.data.values[self.path] else {
            self.problems.missing("\(self.path) (a directory, with no value of its own)", key: self.path)
            return ""
        }
        return value
    }

    var isNull: Bool { false }

    // MARK: MustacheTransformable

    func transform(_ name: String) -> Any? {
        if let listing = TemplateListing(rawValue: name) {
            return listing.list(under: self.path, in: self.data, problems: self.problems)
        }
        switch name {
        case "exists": return true
        case "optional": return self
        case "base": return self.path == "/" ? "/" : String(self.path.split(separator: "/").last ?? "")
        case "json":
            guard let value = self.data.values[self.path] else {
                self.problems.missing("\(self.path) (a directory, with no value of its own)", key: self.path)
                return nil
            }
            return TemplateJSON.decode(value, key: self.path, problems: self.problems)
        default:
            if let value = self.data.values[self.path], let transformed = value.transform(name) {
                return transformed
            }
            self.problems.unknownFunction(name, on: self.path, key: self.path)
            return nil
        }
    }
}

/// The functions that list what is under a key; each returns an empty list under a key that does not exist, as
/// confd's `getvs`, `gets` and `ls` do.
enum TemplateListing: String {
    /// The values of the keys directly under (confd's `getvs "/dir/*"`), in key order.
    case values
    /// The keys directly under, as entries with `key`, `name`, `value` and `json` (confd's `gets "/dir/*"`).
    case pairs
    /// Every key under, at any depth, as entries (confd's `gets` with a recursive pattern).
    case all
    /// The names of the children, keys and directories (confd's `ls`).
    case children
    /// The names of the children that have keys under them (confd's `lsdir`).
    case dirs
    /// The keys directly under, each decoded as a `ServiceInstance` (Beacon registrations).
    case instances

    func list(under path: String, in data: TemplateData, problems: RenderProblems) -> [Any] {
        switch self {
        case .values:
            return data.directKeys(under: path).map { data.values[$0] ?? "" }
        case .pairs:
            return data.directKeys(under: path).map {
                TemplateEntry(key: $0, value: data.values[$0] ?? "", problems: problems)
            }
        case .all:
            return data.keys[data.rangeUnder(path)].map {
                TemplateEntry(key: $0, value: data.values[$0] ?? "", problems: problems)
            }
        case .children:
            return data.childNames(of: path, directoriesOnly: false)
        case .dirs:
            return data.childNames(of: path, directoriesOnly: true)
        case .instances:
            return data.directKeys(under: path).compactMap {
                TemplateInstance.decode(key: $0, value: data.values[$0] ?? "", problems: problems)
            }
        }
    }
}

/// A key or JSON field a template reads that does not exist.
///
/// Rendering it, or opening a section on it, notes the problem and fails the render; `optional(…)` turns it into an
/// empty value and `exists(…)` into `false`. The listing functions give an empty list.
struct MissingTemplateValue: MustacheParent, MustacheCustomRenderable, MustacheTransformable {
    enum What {
        case key(String)
        case field(key: String, path: String)
    }

    let what: What
    let data: TemplateData
    let problems: RenderProblems

    private var key: String {
        switch self.what {
        case .key(let key): key
        case .field(let key, _): key
        }
    }

    private var phrase: String {
        switch self.what {
        case .key(let key): key
        case .field(let key, let path): "field \(path) of the JSON at \(key)"
        }
    }

    func child(named name: String) -> Any? {
        switch self.what {
        case .key(let key):
            MissingTemplateValue(what: .key(KeyPath.join(key, name)), data: self.data, problems: self.problems)
        case .field(let key, let path):
            MissingTemplateValue(
                what: .field(key: key, path: path + "." + name),
                data: self.data,
                problems: self.problems
            )
        }
    }

    var renderText: String {
        self.problems.missing(self.phrase, key: self.key)
        return ""
    }

    var isNull: Bool {
        self.problems.missing(self.phrase, key: self.key)
        return true
    }

    func transform(_ name: String) -> Any? {
        if let listing = TemplateListing(rawValue: name) {
            return listing.list(under: self.key, in: self.data, problems: self.problems)
        }
        switch name {
        case "exists": return false
        case "optional": return AbsentTemplateValue()
        default:
            self.problems.missing(self.phrase, key: self.key)
            return nil
        }
    }
}

/// What `optional(…)` gives for a key that does not exist: empty text, and a section that does not render.
struct AbsentTemplateValue: MustacheCustomRenderable {
    var renderText: String { "" }
    var isNull: Bool { true }
}
