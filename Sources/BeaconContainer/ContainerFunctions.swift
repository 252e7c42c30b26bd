// SPDX-License-Identifier: Apache-2.0

import BeaconExpression

/// Symfony's dependency-injection expression functions, `service`, `parameter` and `env`, reading the
/// `container` variable as Symfony's providers do (or, for an expression evaluated without variables, the
/// ``CurrentEvaluation``); one language can serve many containers.
enum ContainerFunctions {
    static let names: Set<String> = ["service", "parameter", "env"]

    static func register(on language: ExpressionLanguage) {
        let registered = language.functionNames
        guard !names.allSatisfy(registered.contains) else { return }
        language.register(
            "service",
            usingVariables: { variables, arguments in
                if variables.isEmpty, let evaluation = CurrentEvaluation.evaluation {
                    return try evaluation.pointee.service(try name(arguments, "service"))
                }
                guard let context = try context(variables, "service") else { return Probe.answer }
                return try context.service(try name(arguments, "service"))
            }
        )
        language.register(
            "parameter",
            usingVariables: { variables, arguments in
                if variables.isEmpty, let evaluation = CurrentEvaluation.evaluation {
                    return try evaluation.pointee.parameter(try name(arguments, "parameter"))
                }
                guard let context = try context(variables, "parameter") else { return Probe.answer }
                return try context.parameter(try name(arguments, "parameter"))
            }
        )
        language.register(
            "env",
            usingVariables: { variables, arguments in
                if variables.isEmpty, let evaluation = CurrentEvaluation.evaluation {
                    return try evaluation.pointee.container.environment.value(named: try name(arguments, "env"))
                }
                guard let context = try context(variables, "env") else { return Probe.answer }
                return try context.container.environment.value(named: try name(arguments, "env"))
            }
        )
    }

    /// Whether `service`, `parameter` and `env` on `language` are these functions (not replaced by the
    /// application): only then may an expression that calls no other function be evaluated without variables.
    static func ownsFunctions(of language: ExpressionLanguage) -> Bool {
        names.allSatisfy { name in
            guard let parsed = try? language.parse("\(name)('')", names: ["container"], useCache: false),
                let answer = try? parsed.evaluate(values: ["container": .object(Probe.shared)])
            else { return false }
            return answer == Probe.answer
        }
    }

    /// The object ``ownsFunctions(of:)`` passes as the `container` variable: these functions answer it with
    /// ``answer``.
    private final class Probe: ExpressionObject {
        static let shared = Probe()
        static let answer = ExpressionValue.string("BeaconContainer.ContainerFunctions")

        let className = "Probe"
    }

    /// The evaluation's `container` object, or `nil` for the probe.
    private static func context(
        _ variables: [String: ExpressionValue],
        _ function: String
    ) throws -> ContainerExpressionObject? {
        if case .object(let object)? = variables["container"] {
            if let context = object as? ContainerExpressionObject {
                return context
            }
            if object === Probe.shared {
                return nil
            }
        }
        throw ExpressionError(.error, "\(function)() needs the container variable of a Container")
    }

    private static func name(_ arguments: [ExpressionValue], _ function: String) throws -> String {
        guard let first = arguments.first else {
            throw ExpressionError(
                .argumentCountError,
                "Too few arguments to function \(function)(), 0 passed and exactly 1 expected"
            )
        }
        return try ExpressionLanguage.string(first).description
    }
}

/// The container and the services resolved for one evaluation: what `service()`, `parameter()` and `env()`
/// read.
struct ContainerEvaluation {
    let container: Container
    let resolved: ResolvedServices
    /// The slot of the service whose construction evaluates the expression, if any (for ``ContainerInput``).
    let slot: Int?
    /// The `container` object, made when an evaluation without variables asks for `service_container`.
    private var object: ContainerExpressionObject?

    init(container: Container, resolved: ResolvedServices, slot: Int?, object: ContainerExpressionObject? = nil) {
        self.container = container
        self.resolved = resolved
        self.slot = slot
        self.object = object
    }

    /// `service(id)`: a service resolved for this evaluation, or ``PendingService`` to have it resolved.
    mutating func service(_ id: String) throws -> ExpressionValue {
        if id == "service_container" {
            if let object {
                return .object(object)
            }
            let made = ContainerExpressionObject(
                ContainerEvaluation(container: container, resolved: resolved, slot: slot)
            )
            object = made
            return .object(made)
        }
        guard let slot = container.index.slot(of: id) else {
            // Symfony's ContainerBuilder reports an unknown id here without suggestions.
            throw ContainerError.serviceNotFound(id, candidates: [])
        }
        if let value = resolved.value(of: slot) {
            return value
        }
        throw PendingService(slot: slot)
    }

    func parameter(_ name: String) throws -> ExpressionValue {
        try container.parameter(name)
    }
}

/// The `container` variable of one evaluation: `get`, `has`, `getParameter` and `hasParameter`, and the
/// services resolved for the evaluation so far.
final class ContainerExpressionObject: ExpressionObject {
    let evaluation: ContainerEvaluation

    init(_ evaluation: ContainerEvaluation) {
        self.evaluation = evaluation
    }

    var container: Container { evaluation.container }

    var className: String { container.className }

    func service(_ id: String) throws -> ExpressionValue {
        if id == "service_container" {
            return .object(self)
        }
        var evaluation = evaluation
        return try evaluation.service(id)
    }

    func parameter(_ name: String) throws -> ExpressionValue {
        try evaluation.parameter(name)
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        ["get", "has", "getparameter", "hasparameter"].contains(lowercasedName)
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        guard let first = arguments.first else {
            throw ExpressionError(
                .argumentCountError,
                "Too few arguments to function \(className)::\(lowercasedName)(), 0 passed"
            )
        }
        let name = try ExpressionLanguage.string(first).description
        switch lowercasedName {
        case "get": return try service(name)
        case "has": return .bool(name == "service_container" || container.has(name))
        case "getparameter": return try parameter(name)
        default: return .bool(container.hasParameter(name))
        }
    }
}
