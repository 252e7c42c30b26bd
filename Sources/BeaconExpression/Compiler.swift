// SPDX-License-Identifier: Apache-2.0

/// A compiled node: evaluates in a scope.
typealias Evaluator = @Sendable (Scope) throws -> ExpressionValue

/// A function as registered with ``ExpressionLanguage``.
typealias FunctionEvaluator = @Sendable ([ExpressionValue]) throws -> ExpressionValue

/// Turns a syntax tree into a tree of closures.
///
/// Operators, functions and lower-cased method names are resolved here, once; evaluating runs the closures
/// with no further lookups other than reading variables from the values dictionary. Subtrees made only of
/// literals are evaluated at compile time when that raises neither an error nor a diagnostic.
struct Compiler {
    /// A compiled node and, when it is a constant, its value.
    private struct Compiled {
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

    let functions: [String: FunctionEvaluator]

    /// Compiles a whole tree.
    func compile(_ node: Node) -> Evaluator {
        compileNode(node).evaluate
    }

    private func runtimeError(_ message: [UInt8]) -> ExpressionError {
        ExpressionError(code: .runtimeError, message: String(decoding: message, as: UTF8.self))
    }

    /// Folds a node whose children are all constants, unless evaluating it throws or reports a diagnostic.
    private func folded(_ compiled: Compiled, children: [Compiled]) -> Compiled {
        guard children.allSatisfy({ $0.constant != nil }) else { return compiled }
        final class Flag {
            var raised = false
        }
        let flag = Flag()
        let scope = Scope(values: [:], diagnostics: { _ in flag.raised = true })
        guard let value = try? compiled.evaluate(scope), !flag.raised else { return compiled }
        return Compiled(constant: value)
    }

    private func compileNode(_ node: Node) -> Compiled {
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
            return compileArray(elements)
        case .unary(let op, let operandNode):
            let operand = compileNode(operandNode)
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
            let left = compileNode(leftNode)
            let right = compileNode(rightNode)
            return folded(compileBinary(op, left, right), children: [left, right])
        case .conditional(let conditionNode, let thenNode, let otherwiseNode):
            let condition = compileNode(conditionNode)
            let then = compileNode(thenNode)
            let otherwise = compileNode(otherwiseNode)
            if let value = condition.constant {
                return isTruthy(value) ? then : otherwise
            }
            let test = condition.evaluate
            let first = then.evaluate
            let second = otherwise.evaluate
            return Compiled { scope in isTruthy(try test(scope)) ? try first(scope) : try second(scope) }
        case .function(let name, let argumentNodes):
            return compileFunction(name, argumentNodes)
        case .getAttribute(let receiverNode, let attribute, let argumentNodes, let access):
            return compileAttribute(receiverNode, attribute, argumentNodes, access)
        }
    }

    private func compileArray(_ elements: [(key: Node, value: Node)]) -> Compiled {
        let keys = elements.map { compileNode($0.key) }
        let values = elements.map { compileNode($0.value) }
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

    private func compileFunction(_ name: String, _ argumentNodes: [Node]) -> Compiled {
        let arguments = argumentNodes.map { compileNode($0).evaluate }
        guard let function = functions[name] else {
            // The parser only accepts registered names; this cannot happen, but fail cleanly if it does.
            return Compiled { _ in
                throw ExpressionError(code: .error, message: "Call to undefined function \(name)()")
            }
        }
        switch arguments.count {
        case 0:
            return Compiled { _ in try function([]) }
        case 1:
            let first = arguments[0]
            return Compiled { scope in try function([try first(scope)]) }
        default:
            return Compiled { scope in
                var values: [ExpressionValue] = []
                values.reserveCapacity(arguments.count)
                for argument in arguments {
                    values.append(try argument(scope))
                }
                return try function(values)
            }
        }
    }

    private func compileAttribute(
        _ receiverNode: Node,
        _ attribute: Node,
        _ argumentNodes: [Node],
        _ access: AttributeAccess
    ) -> Compiled {
        let receiver = compileNode(receiverNode).evaluate
        switch access {
        case .property:
            var name = ""
            if case .constant(.string(let text), _) = attribute {
                name = text.description
            }
            let propertyName = name
            return Compiled { scope in
                guard case .object(let object) = try receiver(scope) else {
                    throw runtimeError(
                        Array("Unable to get property \"".utf8) + attribute.dump()
                            + Array("\" of non-object \"".utf8) + receiverNode.dump() + Array("\".".utf8)
                    )
                }
                if let value = try object.property(named: propertyName) {
                    return value
                }
                scope.warning("Undefined property: \(object.className)::$\(propertyName)")
                return .null
            }
        case .method:
            var name = ""
            if case .constant(.string(let text), _) = attribute {
                name = text.description
            }
            let methodName = name
            let lowercased = String(
                decoding: name.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 32 : $0 },
                as: UTF8.self
            )
            let arguments = argumentNodes.map { compileNode($0).evaluate }
            return Compiled { scope in
                guard case .object(let object) = try receiver(scope) else {
                    throw runtimeError(
                        Array("Unable to call method \"".utf8) + attribute.dump()
                            + Array("\" of non-object \"".utf8) + receiverNode.dump() + Array("\".".utf8)
                    )
                }
                guard object.hasMethod(named: lowercased) else {
                    throw runtimeError(
                        Array("Unable to call method \"\(methodName)\" of object \"\(object.className)\".".utf8)
                    )
                }
                if arguments.isEmpty {
                    return try object.callMethod(named: lowercased, arguments: [])
                }
                var values: [ExpressionValue] = []
                values.reserveCapacity(arguments.count)
                for argument in arguments {
                    values.append(try argument(scope))
                }
                return try object.callMethod(named: lowercased, arguments: values)
            }
        case .item:
            let key = compileNode(attribute).evaluate
            return Compiled { scope in
                switch try receiver(scope) {
                case .array(let array):
                    let arrayKey = try phpArrayKey(try key(scope), scope: scope)
                    if let value = array[arrayKey] {
                        return value
                    }
                    switch arrayKey {
                    case .int(let index): scope.warning("Undefined array key \(index)")
                    case .string(let text): scope.warning("Undefined array key \"\(text.description)\"")
                    }
                    return .null
                case .object(let object) where object.isSubscriptable:
                    return try object.item(forKey: try key(scope))
                default:
                    throw runtimeError(
                        Array("Unable to get an item of non-array \"".utf8) + receiverNode.dump() + Array("\".".utf8)
                    )
                }
            }
        }
    }

    private func compileBinary(_ op: String, _ left: Compiled, _ right: Compiled) -> Compiled {
        let lhs = left.evaluate
        let rhs = right.evaluate
        switch op {
        case "or", "||":
            return Compiled { scope in
                if isTruthy(try lhs(scope)) {
                    return .bool(true)
                }
                return .bool(isTruthy(try rhs(scope)))
            }
        case "and", "&&":
            return Compiled { scope in
                if !isTruthy(try lhs(scope)) {
                    return .bool(false)
                }
                return .bool(isTruthy(try rhs(scope)))
            }
        case "|", "^", "&":
            return Compiled { scope in try PHPArithmetic.bitwise(op, lhs(scope), rhs(scope), scope: scope) }
        case "==":
            return Compiled { scope in .bool(phpLooselyEquals(try lhs(scope), try rhs(scope), scope: scope)) }
        case "!=":
            return Compiled { scope in .bool(!phpLooselyEquals(try lhs(scope), try rhs(scope), scope: scope)) }
        case "===":
            return Compiled { scope in .bool(phpIdentical(try lhs(scope), try rhs(scope))) }
        case "!==":
            return Compiled { scope in .bool(!phpIdentical(try lhs(scope), try rhs(scope))) }
        case "<":
            return Compiled { scope in .bool(phpCompare(try lhs(scope), try rhs(scope), scope: scope) < 0) }
        case "<=":
            return Compiled { scope in .bool(phpCompare(try lhs(scope), try rhs(scope), scope: scope) <= 0) }
        case ">":
            return Compiled { scope in
                let first = try lhs(scope)
                return .bool(phpCompare(try rhs(scope), first, scope: scope) < 0)
            }
        case ">=":
            return Compiled { scope in
                let first = try lhs(scope)
                return .bool(phpCompare(try rhs(scope), first, scope: scope) <= 0)
            }
        case "in":
            return Compiled { scope in .bool(try phpInArray(try lhs(scope), try rhs(scope), scope: scope)) }
        case "not in":
            return Compiled { scope in .bool(!(try phpInArray(try lhs(scope), try rhs(scope), scope: scope))) }
        case "+":
            return Compiled { scope in try PHPArithmetic.add(lhs(scope), rhs(scope), scope: scope) }
        case "-":
            return Compiled { scope in try PHPArithmetic.subtract(lhs(scope), rhs(scope), scope: scope) }
        case "~":
            return Compiled { scope in try PHPArithmetic.concatenate(lhs(scope), rhs(scope), scope: scope) }
        case "*":
            return Compiled { scope in try PHPArithmetic.multiply(lhs(scope), rhs(scope), scope: scope) }
        case "/":
            return Compiled { scope in
                let first = try lhs(scope)
                let second = try rhs(scope)
                if phpLooselyEquals(.int(0), second, scope: scope) {
                    throw ExpressionError(code: .divisionByZero, message: "Division by zero.")
                }
                return try PHPArithmetic.divide(first, second, scope: scope)
            }
        case "%":
            return Compiled { scope in
                let first = try lhs(scope)
                let second = try rhs(scope)
                if phpLooselyEquals(.int(0), second, scope: scope) {
                    throw ExpressionError(code: .divisionByZero, message: "Modulo by zero.")
                }
                return try PHPArithmetic.modulo(first, second, scope: scope)
            }
        case "**":
            return Compiled { scope in try PHPArithmetic.power(lhs(scope), rhs(scope), scope: scope) }
        case "..":
            return Compiled { scope in try PHPRange.range(lhs(scope), rhs(scope), scope: scope) }
        case "matches":
            return compileMatches(lhs, right)
        default:
            return Compiled { _ in
                throw ExpressionError(code: .error, message: "Unsupported operator \"\(op)\"")
            }
        }
    }

    /// `matches`: Symfony's `evaluateMatches(string $regexp, ?string $str)` around `preg_match`.
    private func compileMatches(_ subject: @escaping Evaluator, _ pattern: Compiled) -> Compiled {
        var precompiled: PHPRegex.Compiled?
        if case .string(let text)? = pattern.constant {
            precompiled = PHPRegex.compile(text.bytes)
        }
        let fixed = precompiled
        let patternEvaluator = pattern.evaluate
        return Compiled { scope in
            let subjectValue = try subject(scope)
            let patternValue = try patternEvaluator(scope)
            let regexp = try Compiler.stringArgument(patternValue, number: 1, name: "regexp", nullable: false, scope)
            let text = try Compiler.stringArgument(subjectValue, number: 2, name: "str", nullable: true, scope)
            switch fixed ?? PHPRegex.compile(regexp) {
            case .regex(let regex):
                return .int(regex.matches(text))
            case .invalid(let warning):
                let message =
                    Array("Regexp \"".utf8) + regexp + Array("\" passed to \"matches\" is not valid: \(warning)".utf8)
                throw ExpressionError.syntax(String(decoding: message, as: UTF8.self), position: 0, expression: [])
            }
        }
    }

    /// PHP's coercion of an argument to a `string` (or `?string`) parameter of a user function.
    private static func stringArgument(
        _ value: ExpressionValue,
        number: Int,
        name: String,
        nullable: Bool,
        _ scope: Scope
    ) throws -> [UInt8] {
        let typeError = ExpressionError(
            code: .typeError,
            message: "BinaryNode::evaluateMatches(): Argument #\(number) ($\(name)) must be of type "
                + "\(nullable ? "?string" : "string"), \(value.typeName) given"
        )
        switch value {
        case .null:
            if nullable { return [] }
            throw typeError
        case .array:
            throw typeError
        case .object(let object):
            guard let string = try object.stringConversion() else { throw typeError }
            return string.bytes
        default:
            return try phpString(of: value, scope: scope)
        }
    }
}
