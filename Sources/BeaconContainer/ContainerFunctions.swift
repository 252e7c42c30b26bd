// SPDX-License-Identifier: Apache-2.0

import BeaconExpression

/// Symfony's dependency-injection expression functions, `service`, `parameter` and `env`, reading the
/// `container` variable as Symfony's providers do; one language can serve many containers.
enum ContainerFunctions {
    static let names: Set<String> = ["service", "parameter", "env"]

    static func register(on language: ExpressionLanguage) {
        let registered = language.functionNames
        guard !names.allSatisfy(registered.contains) else { return }
        language.register(
            "service",
            usingVariables: { variables, arguments in
                try context(variables, "service").service(try name(arguments, "service"))
            }
        )
        language.register(
            "parameter",
            usingVariables: { variables, arguments in
                try context(variables, "parameter").parameter(try name(arguments, "parameter"))
            }
        )
        language.register(
            "env",
            usingVariables: { variables, arguments in
                try context(variables, "env").container.environment.value(named: try name(arguments, "env"))
            }
        )
    }

    /// The evaluation's `container` object.
    private static func context(
        _ variables: [String: ExpressionValue],
        _ function: String
    ) throws -> ContainerExpressionObject {
        guard case .object(let object)? = variables["container"], let context = object as? ContainerExpressionObject
        else {
            throw ExpressionError(.error, "\(function)() needs the container variable of a Container")
        }
        return context
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

/// The `container` variable of one evaluation: `get`, `has`, `getParameter` and `hasParameter`, and the
/// services resolved for the evaluation so far, which `service()`, `parameter()` and `env()` read too.
final class ContainerExpressionObject: ExpressionObject {
    let container: Container
    let resolved: ResolvedServices

    init(container: Container, resolved: ResolvedServices) {
        self.container = container
        self.resolved = resolved
    }

    var className: String { container.className }

    /// `service(id)`: a service resolved for this evaluation, or ``PendingService`` to have it resolved.
    func service(_ id: String) throws -> ExpressionValue {
        if id == "service_container" {
            return .object(self)
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
