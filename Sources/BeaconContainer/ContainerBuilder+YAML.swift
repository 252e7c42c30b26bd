// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Foundation
import Yams

extension ContainerBuilder {
    /// Loads parameters and service definitions from a YAML file, then the files it imports.
    ///
    /// The Symfony subset: `imports:` (paths relative to the file, or `- { resource: path }`), `parameters:`
    /// and `services:` whose definitions have `class:` (a factory registered with ``registerFactory(_:_:)``),
    /// `arguments:` (a list), `shared: false`, `refreshable: true` (Beacon's) and `alias:`; `id: '@other'` is an
    /// alias too. Definitions replace earlier ones with the same id.
    ///
    /// - Parameter path: The file's path.
    /// - Throws: ``ContainerError`` naming the file and line: unreadable file, malformed YAML, unsupported key,
    ///   wrong shape.
    public mutating func loadYAML(file path: String) throws(ContainerError) {
        var loading: [String] = []
        try loadYAMLFile(path, loading: &loading)
    }

    /// Loads parameters and service definitions from YAML text; see ``loadYAML(file:)``.
    ///
    /// - Parameters:
    ///   - yaml: The YAML text.
    ///   - file: The name used in error messages and locations.
    ///   - directory: Where relative `imports:` are looked up (default: the current directory).
    /// - Throws: ``ContainerError`` naming the file and line.
    public mutating func loadYAML(
        _ yaml: String,
        file: String = "<yaml>",
        directory: String? = nil
    ) throws(ContainerError) {
        var loading: [String] = []
        try load(yaml, file: file, directory: directory ?? FileManager.default.currentDirectoryPath, loading: &loading)
    }

    private mutating func loadYAMLFile(_ path: String, loading: inout [String]) throws(ContainerError) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard !loading.contains(url.path) else { return }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ContainerError(
                .fileNotFound,
                "Cannot read the YAML file \"\(path)\".",
                underlying: error
            )
        }
        loading.append(url.path)
        defer { loading.removeLast() }
        try load(text, file: path, directory: url.deletingLastPathComponent().path, loading: &loading)
    }

    private mutating func load(
        _ text: String,
        file: String,
        directory: String,
        loading: inout [String]
    ) throws(ContainerError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: LegacyPercentScalars.quote(text), Yams.Resolver.basic)
        } catch {
            throw Self.yamlError(error, file: file)
        }
        guard let root else { return }
        let reader = YAMLReader(file: file)
        guard let mapping = root.mapping else {
            throw reader.error(
                root,
                "The file \"\(file)\" must contain a mapping with \"imports\", \"parameters\" or \"services\"."
            )
        }
        for (key, value) in mapping {
            let name = key.string ?? ""
            switch name {
            case "imports":
                for resource in try reader.imports(value) {
                    let path = resource.hasPrefix("/") ? resource : directory + "/" + resource
                    try loadYAMLFile(path, loading: &loading)
                }
            case "parameters":
                guard let parameters = value.mapping else {
                    if value.null != nil { continue }
                    throw reader.error(value, "\"parameters\" must be a mapping of names to values.")
                }
                for (nameNode, valueNode) in parameters {
                    setParameter(
                        nameNode.string ?? "",
                        try reader.value(valueNode),
                        location: reader.location(nameNode)
                    )
                }
            case "services":
                guard let services = value.mapping else {
                    if value.null != nil { continue }
                    throw reader.error(value, "\"services\" must be a mapping of ids to definitions.")
                }
                for (idNode, definition) in services {
                    try loadService(idNode.string ?? "", definition, reader: reader, location: reader.location(idNode))
                }
            default:
                throw reader.error(
                    key,
                    "The file \"\(file)\" contains the unsupported key \"\(name)\"; the allowed keys are \"imports\", "
                        + "\"parameters\" and \"services\"."
                )
            }
        }
    }

    private static let serviceKeys = ["class", "arguments", "shared", "refreshable", "alias", "public"]

    private mutating func loadService(
        _ id: String,
        _ node: Node,
        reader: YAMLReader,
        location: ContainerError.Location
    ) throws(ContainerError) {
        if let text = node.scalar.map(\.string), node.null == nil {
            guard text.hasPrefix("@"), text.count > 1 else {
                throw reader.error(
                    node,
                    "The definition of the service \"\(id)\" must be a mapping, null, or \"@id\" for an alias."
                )
            }
            alias(id, to: String(text.dropFirst()), location: location)
            return
        }
        if node.null != nil {
            register(id, factory: id, arguments: [], scope: .shared, location: location)
            return
        }
        guard let mapping = node.mapping else {
            throw reader.error(node, "The definition of the service \"\(id)\" must be a mapping.")
        }
        var factory = id
        var arguments: [Argument] = []
        var shared = true
        var refreshable = false
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "alias":
                guard let target = value.string, mapping.count <= 2 else {
                    throw reader.error(
                        value,
                        "The alias \"\(id)\" must name a service and have no other keys but \"public\"."
                    )
                }
                alias(id, to: target, location: location)
                return
            case "class":
                guard let name = value.string, value.scalar != nil else {
                    throw reader.error(value, "The \"class\" of the service \"\(id)\" must be a factory name.")
                }
                factory = name
            case "arguments":
                guard let list = value.sequence else {
                    throw reader.error(value, "The \"arguments\" of the service \"\(id)\" must be a list.")
                }
                for element in list {
                    arguments.append(try reader.argument(element))
                }
            case "shared", "refreshable", "public":
                guard let flag = value.bool, YAMLScalarTag.name(of: value) == .bool else {
                    throw reader.error(value, "\"\(key)\" of the service \"\(id)\" must be true or false.")
                }
                if key == "shared" { shared = flag }
                if key == "refreshable" { refreshable = flag }
            default:
                throw reader.error(
                    keyNode,
                    "The key \"\(key)\" is not supported for the service \"\(id)\"; the allowed keys are "
                        + Self.serviceKeys.map { "\"\($0)\"" }.joined(separator: ", ") + "."
                )
            }
        }
        if refreshable && !shared {
            throw reader.error(
                node,
                "The service \"\(id)\" cannot be both \"shared: false\" and \"refreshable: true\"."
            )
        }
        let scope: ServiceScope = refreshable ? .refreshable : (shared ? .shared : .transient)
        register(id, factory: factory, arguments: arguments, scope: scope, location: location)
    }

    private static func yamlError(_ error: any Error, file: String) -> ContainerError {
        var mark: Mark?
        var problem = "\(error)"
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(_, let text, let position, _), .parser(_, let text, let position, _),
                .composer(_, let text, let position, _):
                mark = position
                problem = text
            case .duplicatedKeysInMapping(let duplicates, let context):
                mark = context.mark
                let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                problem = "a mapping has the key \(keys) more than once (YAML types aside: `1` and `\"1\"` are one key)"
            default:
                break
            }
        }
        let location = mark.map { ContainerError.Location(file: file, line: $0.line) }
        let place = mark.map { " at line \($0.line), column \($0.column)" } ?? ""
        // Yams's error is not kept as the underlying error: it carries the whole text of the file, which may hold
        // secrets (and the description of a duplicate key prints it).
        return ContainerError(
            .invalidYAML,
            "Invalid YAML in \"\(file)\"\(place): \(problem).",
            location: location,
            underlying: error is YamlError ? nil : error
        )
    }
}

/// Reads values, arguments and imports from YAML nodes, with file and line in errors.
struct YAMLReader {
    let file: String

    func location(_ node: Node) -> ContainerError.Location {
        ContainerError.Location(file: file, line: node.mark?.line ?? 0)
    }

    func error(_ node: Node, _ message: String) -> ContainerError {
        let location = location(node)
        return ContainerError(.invalidDefinition, "\(location): \(message)", location: location)
    }

    func imports(_ node: Node) throws(ContainerError) -> [String] {
        guard let list = node.sequence else {
            if node.null != nil { return [] }
            throw error(node, "\"imports\" must be a list of files.")
        }
        var paths: [String] = []
        for element in list {
            if let mapping = element.mapping, let resource = mapping["resource"]?.string {
                paths.append(resource)
            } else if element.scalar != nil, let path = element.string {
                paths.append(path)
            } else {
                throw error(element, "An import must be a file name or a mapping with \"resource\".")
            }
        }
        return paths
    }

    /// A parameter value: YAML types become PHP values; strings stay templates.
    func value(_ node: Node) throws(ContainerError) -> ExpressionValue {
        switch node {
        case .scalar:
            return scalar(node)
        case .sequence(let sequence):
            var values: [ExpressionValue] = []
            for element in sequence {
                values.append(try value(element))
            }
            return .list(values)
        case .mapping(let mapping):
            var array = ExpressionArray()
            for (key, element) in mapping {
                array[ExpressionArrayKey(normalizing: ExpressionString(key.string ?? ""))] = try value(element)
            }
            return .array(array)
        case .alias:
            throw error(node, "YAML aliases are not supported.")
        }
    }

    private func scalar(_ node: Node) -> ExpressionValue {
        switch YAMLScalarTag.name(of: node) {
        case .null: return .null
        case .bool: return node.bool.map(ExpressionValue.bool) ?? .string(node.string ?? "")
        case .int: return node.int.map(ExpressionValue.int) ?? .string(node.string ?? "")
        case .float: return node.float.map(ExpressionValue.float) ?? .string(node.string ?? "")
        default: return .string(node.string ?? "")
        }
    }

    /// A service argument: strings use the `@`/`%` syntax, other scalars are values.
    func argument(_ node: Node) throws(ContainerError) -> Argument {
        let location = location(node)
        switch node {
        case .scalar:
            if case .string(let text) = scalar(node) {
                return Argument(.text(text.description), location: location)
            }
            return Argument(.value(scalar(node)), location: location)
        case .sequence(let sequence):
            var elements: [Argument] = []
            for element in sequence {
                elements.append(try argument(element))
            }
            return Argument(.list(elements), location: location)
        case .mapping(let mapping):
            var entries: [(key: String, value: Argument)] = []
            for (key, element) in mapping {
                entries.append((key.string ?? "", try argument(element)))
            }
            return Argument(.map(entries), location: location)
        case .alias:
            throw error(node, "YAML aliases are not supported.")
        }
    }
}
