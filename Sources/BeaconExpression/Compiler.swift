// SPDX-License-Identifier: Apache-2.0

/// A compiled node: evaluates in a scope.
typealias Evaluator = @Sendable (Scope) throws -> ExpressionValue

/// A function as registered with ``ExpressionLanguage``: the evaluation's variables and the arguments.
typealias FunctionEvaluator = @Sendable ([String: ExpressionValue], [ExpressionValue]) throws -> ExpressionValue

/// A registered function, wrapped so a dictionary of them keeps the closure's own calling convention (a
/// dictionary of bare closures would store them maximally abstracted, calling through a thunk).
struct RegisteredFunction: Sendable {
    let evaluate: FunctionEvaluator
}

/// Turns a syntax tree into a tree of closures.
///
/// Operators, functions and lower-cased method names are resolved here, once; evaluating runs the closures
/// with no further lookups other than reading variables from the values dictionary. Subtrees made only of
/// literals are evaluated at compile time when that raises neither an error nor a diagnostic.
struct Compiler {
    /// A compiled node and, when it is a constant, its value.
    struct Compiled {
        let evaluate: Evaluator
        let constant: ExpressionValue?

        init(_ evaluate: @escaping Evaluator) {
            self.evaluate = evaluate
            self.constant = nil
        }

        init(constant value: ExpressionValue) {
            self.evaluate = { _ in value }
            self.constant = value
        }
    }

    let functions: [String: RegisteredFunction]
    /// Watches the stack of the compiling thread.
    let stack: StackGuard

    /// Compiles a whole tree.
    func compile(_ node: Node) throws -> Evaluator {
        try compileNode(node).evaluate
    }

    func runtimeError(_ message: [UInt8]) -> ExpressionError {
        ExpressionError(.runtimeError, String(decoding: message, as: UTF8.self))
    }

    /// Folds a node whose children are all constants, unless evaluating it throws or reports a diagnostic.
    func folded(_ compiled: Compiled, children: [Compiled]) -> Compiled {
        guard children.allSatisfy({ $0.constant != nil }) else { return compiled }
        final class Flag {
            var raised = false
        }
        let flag = Flag()
        let scope = Scope(values: [:], diagnostics: { _ in flag.raised = true })
        guard let value = try? compiled.evaluate(scope), !flag.raised else { return compiled }
        return Compiled(constant: value)
    }

    func compileNode(_ node: Node) throws -> Compiled {
        guard stack.hasRoom() else {
            throw ExpressionError(
                .nestingTooDeep,
                "Expression nesting exceeds the stack available to compile it."
            )
        }
        switch node {
        case .constant(let value, _):
            return Compiled(constant: value)
        case .name(let name):
            return Compiled { scope in
                if let value = scope.values[name] {
                    return value
                }
                scope.warning("Undefined array key \"\(name)\"")
                return .null
            }
        case .array(let elements):
            return try compileArray(elements)
        case .unary(let op, let operandNode):
            let operand = try compileNode(operandNode)
            let evaluate = operand.evaluate
            let compiled: Compiled
            switch op {
            case "not", "!":
                compiled = Compiled { scope in .bool(!isTruthy(try evaluate(scope))) }
            case "-":
                compiled = Compiled { scope in try PHPArithmetic.negate(evaluate(scope), scope: scope) }
            default:
                compiled = Compiled(evaluate)
            }
            return folded(compiled, children: [operand])
        case .binary(let op, let leftNode, let rightNode):
            let left = try compileNode(leftNode)
            let right = try compileNode(rightNode)
            return folded(compileBinary(op, left, right), children: [left, right])
        case .conditional(let conditionNode, let thenNode, let otherwiseNode):
            let condition = try compileNode(conditionNode)
            let then = try compileNode(thenNode)
            let otherwise = try compileNode(otherwiseNode)
            if let value = condition.constant {
                return isTruthy(value) ? then : otherwise
            }
            let test = condition.evaluate
            let first = then.evaluate
            let second = otherwise.evaluate
            return Compiled { scope in isTruthy(try test(scope)) ? try first(scope) : try second(scope) }
        case .function(let name, let argumentNodes):
            return try compileFunction(name, argumentNodes)
        case .getAttribute(let receiverNode, let attribute, let argumentNodes, let access):
            return try compileAttribute(receiverNode, attribute, argumentNodes, access)
        }
    }

    private func compileArray(_ elements: [(key: Node, value: Node)]) throws -> Compiled {
        let keys = try elements.map { try compileNode($0.key) }
        let values = try elements.map { try compileNode($0.value) }
        let isList = keys.enumerated().allSatisfy { position, key in
            if case .int(let index)? = key.constant { return index == position }
            return false
        }
        let compiled: Compiled
        if isList {
            let evaluators = values.map(\.evaluate)
            compiled = Compiled { scope in
                var list: [ExpressionValue] = []
                list.reserveCapacity(evaluators.count)
                for evaluate in evaluators {
                    list.append(try evaluate(scope))
                }
                return .list(list)
            }
        } else {
            let pairs = zip(keys.map(\.evaluate), values.map(\.evaluate)).map { ($0, $1) }
            compiled = Compiled { scope in
                var array = ExpressionArray()
                for (key, value) in pairs {
                    let keyValue = try key(scope)
                    let element = try value(scope)
                    array[try phpArrayKey(keyValue, scope: scope)] = element
                }
                return .array(array)
            }
        }
        return folded(compiled, children: keys + values)
    }
}
