// SPDX-License-Identifier: Apache-2.0

import BeaconExpression

extension ContainerBuilder {
    /// Validates the definitions and returns the container; nothing is constructed.
    ///
    /// Checks: aliases and `@id` references name defined services; literal `service('id')` and
    /// `parameter('name')` calls in expressions name defined ones (unless ``checksExpressionReferences`` is
    /// `false`); `%name%` parameters exist; `class:` factories are registered; expressions parse; `%env()%`
    /// processors exist; services and parameters have no cycles; change signals are for refreshable services.
    ///
    /// - Returns: The container.
    /// - Throws: ``ContainerError``; the message names the service or parameter, the file and line for YAML
    ///   definitions, the expression and position for expressions, and the path for cycles.
    public func build() throws(ContainerError) -> Container {
        ContainerFunctions.register(on: expressionLanguage)
        var compiler = DefinitionCompiler(builder: self)
        let index = try compiler.resolveAliases()
        compiler.index = index
        var compiled: [Container.CompiledDefinition?] = []
        for id in slotIDs {
            guard let definition = definitions[id] else {
                compiled.append(nil)
                continue
            }
            compiled.append(try compiler.compile(id: id, definition))
        }
        try Self.checkCycles(compiled, ids: slotIDs)
        var parameterPlans: [String: Plan] = [:]
        for name in parameterOrder {
            parameterPlans[name] = try compiler.parameterPlan(name, location: parameters[name]?.location)
        }
        var signalSlots: [(slot: Int, consume: @Sendable (_ onElement: @Sendable () -> Void) async -> Void)] = []
        for signal in signals {
            guard let slot = index[signal.id] else {
                throw ContainerError(
                    .serviceNotFound,
                    "A change signal is registered for a non-existent service \"\(signal.id)\"."
                )
            }
            guard compiled[slot]?.scope == .refreshable else {
                throw ContainerError(
                    .notRefreshable,
                    "A change signal is registered for the service \"\(signal.id)\", which is not refreshable."
                )
            }
            signalSlots.append((slot, signal.consume))
        }
        return Container(
            owner: owner,
            definitions: compiled,
            index: index,
            serviceIDs: ["service_container"] + idOrder,
            parameters: parameterPlans,
            parameterOrder: parameterOrder,
            environment: Environment(table: environment),
            className: containerClassName,
            signals: signalSlots,
            retiredInstanceGracePeriod: retiredInstanceGracePeriod,
            logger: logger
        )
    }

    /// Depth-first search over the static references; reports the first cycle with its path.
    private static func checkCycles(_ compiled: [Container.CompiledDefinition?], ids: [String]) throws(ContainerError) {
        var state = [UInt8](repeating: 0, count: compiled.count)  // 0 new, 1 on the path, 2 done
        var path: [Int] = []
        func visit(_ slot: Int) throws(ContainerError) {
            if state[slot] == 2 { return }
            if state[slot] == 1 {
                let start = path.firstIndex(of: slot) ?? 0
                throw Container.cycleError(ids: (path[start...] + [slot]).map { ids[$0] })
            }
            state[slot] = 1
            path.append(slot)
            for reference in compiled[slot]?.references ?? [] {
                try visit(reference)
            }
            path.removeLast()
            state[slot] = 2
        }
        for slot in compiled.indices {
            try visit(slot)
        }
    }
}

/// Turns definitions into compiled plans, with the messages of build-time errors.
struct DefinitionCompiler {
    let builder: ContainerBuilder
    var index: [String: Int] = [:]
    private var parameterPlans: [String: Plan] = [:]
    private var parameterStack: [String] = []

    init(builder: ContainerBuilder) {
        self.builder = builder
    }

    /// Maps every service id and alias to a slot; aliases may point at aliases.
    func resolveAliases() throws(ContainerError) -> [String: Int] {
        var index: [String: Int] = [:]
        for (id, slot) in builder.slotOfID where builder.definitions[id] != nil {
            index[id] = slot
        }
        for alias in builder.aliases.keys.sorted() {
            var path = [alias]
            var current = alias
            while let next = builder.aliases[current] {
                if let slot = index[next.target] {
                    index[alias] = slot
                    break
                }
                guard builder.aliases[next.target] != nil else {
                    throw ContainerError(
                        .serviceNotFound,
                        "The service alias \"\(current)\"\(ContainerError.at(next.location)) points to a "
                            + "non-existent service \"\(next.target)\".",
                        location: next.location
                    )
                }
                if path.contains(next.target) {
                    throw Container.cycleError(ids: path + [next.target])
                }
                path.append(next.target)
                current = next.target
            }
        }
        return index
    }

    mutating func compile(
        id: String,
        _ definition: ContainerBuilder.Definition
    ) throws(ContainerError) -> Container.CompiledDefinition {
        switch definition.body {
        case .closure(let closure):
            return Container.CompiledDefinition(
                id: id,
                scope: definition.scope,
                body: .closure(closure),
                references: [],
                typeID: definition.typeID
            )
        case .factory(let name, let arguments):
            guard let factory = builder.factories[name] else {
                throw ContainerError(
                    .factoryNotFound,
                    "The service \"\(id)\"\(ContainerError.at(definition.location)) uses the factory "
                        + "\"\(name)\", which is not registered.",
                    location: definition.location
                )
            }
            var plans: [Plan] = []
            for argument in arguments {
                plans.append(
                    try plan(argument, owner: .service(id), location: argument.location ?? definition.location)
                )
            }
            return Container.CompiledDefinition(
                id: id,
                scope: definition.scope,
                body: .factory(factory.call, plans),
                references: plans.flatMap(\.serviceReferences),
                typeID: nil
            )
        }
    }

    /// Who a value belongs to, for error messages.
    enum Owner {
        case service(String)
        case parameter(String)

        var text: String {
            switch self {
            case .service(let id): "service \"\(id)\""
            case .parameter(let name): "parameter \"\(name)\""
            }
        }
    }

    private mutating func plan(
        _ argument: Argument,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> Plan {
        switch argument.storage {
        case .value(let value):
            return .value(value)
        case .list(let elements):
            var plans: [Plan] = []
            for element in elements {
                plans.append(try plan(element, owner: owner, location: element.location ?? location))
            }
            return .list(plans)
        case .map(let entries):
            var plans: [(key: ExpressionArrayKey, value: Plan)] = []
            for entry in entries {
                let key = ExpressionArrayKey(normalizing: ExpressionString(entry.key))
                plans.append((key, try plan(entry.value, owner: owner, location: entry.value.location ?? location)))
            }
            return .map(plans)
        case .text(let text):
            return try serviceArgument(text, owner: owner, location: location)
        }
    }

    /// `@=expr`, `@@text`, `@?id`, `@id`, or a `%` template.
    private mutating func serviceArgument(
        _ text: String,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> Plan {
        if text.hasPrefix("@=") {
            return .expression(try expression(String(text.dropFirst(2)), owner: owner, location: location))
        }
        if text.hasPrefix("@@") {
            return try template(String(text.dropFirst()), owner: owner, location: location)
        }
        if text.hasPrefix("@?") {
            let id = String(text.dropFirst(2))
            return .optionalService(index[id])
        }
        if text.hasPrefix("@") {
            let id = String(text.dropFirst())
            guard let slot = index[id] else {
                throw ContainerError(
                    .serviceNotFound,
                    "The \(owner.text)\(ContainerError.at(location)) has a dependency on a non-existent "
                        + "service \"\(id)\".",
                    location: location
                )
            }
            return .service(slot)
        }
        return try template(text, owner: owner, location: location)
    }

    private mutating func expression(
        _ text: String,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> CompiledExpression {
        let parsed: ParsedExpression
        do {
            parsed = try builder.expressionLanguage.parse(text, names: ["container"])
        } catch {
            let detail = (error as? ExpressionError)?.message ?? "\(error)"
            throw ContainerError(
                .invalidExpression,
                "Invalid expression for the \(owner.text)\(ContainerError.at(location)): \(detail)",
                location: location,
                underlying: error
            )
        }
        let references = ExpressionReferences.scan(parsed.description)
        var services: [Int] = []
        for id in references.services where id != "service_container" {
            if let slot = index[id] {
                if !services.contains(slot) {
                    services.append(slot)
                }
            } else if builder.checksExpressionReferences {
                throw ContainerError(
                    .serviceNotFound,
                    "The \(owner.text)\(ContainerError.at(location)) has a dependency on a non-existent "
                        + "service \"\(id)\" in the expression `\(text)`.",
                    location: location
                )
            }
        }
        for name in references.parameters where builder.parameters[name] == nil && builder.checksExpressionReferences {
            throw ContainerError(
                .parameterNotFound,
                "The \(owner.text)\(ContainerError.at(location)) has a dependency on a non-existent "
                    + "parameter \"\(name)\" in the expression `\(text)`.",
                location: location
            )
        }
        return CompiledExpression(parsed: parsed, services: services)
    }

    /// A string with `%name%`, `%env(...)%` and `%%`; exactly `%name%` keeps the parameter's type.
    mutating func template(
        _ text: String,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> Plan {
        // In ASCII text every `%` and every whitespace character is one byte, and a `%` is never inside a
        // two-byte character (CR LF), so searching the bytes finds the same indices as searching the characters.
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let percentByte = UInt8(ascii: "%")
        let nextPercent = { (part: Substring) -> String.Index? in
            isASCII ? part.utf8.firstIndex(of: percentByte) : part.firstIndex(of: "%")
        }
        let hasWhitespace = { (part: Substring) -> Bool in
            isASCII
                ? part.utf8.contains { $0 == UInt8(ascii: " ") || ($0 >= 0x09 && $0 <= 0x0D) }
                : part.contains(where: \.isWhitespace)
        }
        guard nextPercent(Substring(text)) != nil else { return .value(.string(text)) }
        var parts: [Plan] = []
        var literal = ""
        var rest = Substring(text)
        while let percent = nextPercent(rest) {
            literal += rest[..<percent]
            let afterPercent = rest[rest.index(after: percent)...]
            if isASCII ? afterPercent.utf8.first == percentByte : afterPercent.first == "%" {
                literal += "%"
                rest = afterPercent.dropFirst()
                continue
            }
            guard let close = nextPercent(afterPercent),
                !afterPercent[..<close].isEmpty,
                !hasWhitespace(afterPercent[..<close])
            else {
                literal += "%"
                rest = afterPercent
                continue
            }
            let name = String(afterPercent[..<close])
            if !literal.isEmpty {
                parts.append(.value(.string(literal)))
                literal = ""
            }
            parts.append(try placeholder(name, owner: owner, location: location))
            rest = afterPercent[afterPercent.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty {
            parts.append(.value(.string(literal)))
        }
        if parts.count == 1, case .value = parts[0] {
            return parts[0]
        }
        if parts.count == 1 {
            return parts[0]
        }
        return .concat(parts, template: text)
    }

    private mutating func placeholder(
        _ name: String,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> Plan {
        if name.hasPrefix("env("), name.hasSuffix(")") {
            do {
                return .env(try EnvironmentReference(parsing: String(name.dropFirst(4).dropLast())))
            } catch {
                throw ContainerError(
                    .invalidDefinition,
                    "The \(owner.text)\(ContainerError.at(location)) uses an invalid env placeholder: "
                        + error.message,
                    location: location
                )
            }
        }
        guard builder.parameters[name] != nil else {
            throw ContainerError(
                .parameterNotFound,
                "The \(owner.text)\(ContainerError.at(location)) has a dependency on a non-existent "
                    + "parameter \"\(name)\".",
                location: location
            )
        }
        return .parameter(name, try parameterPlan(name, location: location))
    }

    /// The compiled value of a parameter; strings inside it are templates.
    mutating func parameterPlan(_ name: String, location: ContainerError.Location?) throws(ContainerError) -> Plan {
        if let plan = parameterPlans[name] {
            return plan
        }
        if let start = parameterStack.firstIndex(of: name) {
            let cycle = (parameterStack[start...] + [name]).map { "\"\($0)\"" }.joined(separator: " > ")
            throw ContainerError(
                .circularReference,
                "Circular reference detected for parameter \"\(name)\" (\(cycle)).",
                location: location
            )
        }
        guard let entry = builder.parameters[name] else {
            throw ContainerError(.parameterNotFound, "Unknown parameter \"\(name)\".")
        }
        parameterStack.append(name)
        defer { parameterStack.removeLast() }
        let plan = try parameterValuePlan(entry.value, owner: .parameter(name), location: entry.location)
        parameterPlans[name] = plan
        return plan
    }

    private mutating func parameterValuePlan(
        _ value: ExpressionValue,
        owner: Owner,
        location: ContainerError.Location?
    ) throws(ContainerError) -> Plan {
        switch value {
        case .string(let string):
            return try template(string.description, owner: owner, location: location)
        case .array(let array):
            var entries: [(key: ExpressionArrayKey, value: Plan)] = []
            var isConstant = true
            for entry in array.entries {
                let plan = try parameterValuePlan(entry.value, owner: owner, location: location)
                if plan.constant == nil {
                    isConstant = false
                }
                entries.append((entry.key, plan))
            }
            if isConstant {
                var folded = ExpressionArray()
                for entry in entries {
                    folded[entry.key] = entry.value.constant ?? .null
                }
                return .value(.array(folded))
            }
            return .map(entries)
        default:
            return .value(value)
        }
    }
}
