// SPDX-License-Identifier: Apache-2.0

/// The binary operators, with Symfony's checks around PHP's operators.
extension Compiler {
    func compileBinary(_ op: String, _ left: Compiled, _ right: Compiled) -> Compiled {
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
                    throw ExpressionError(.divisionByZero, "Division by zero.")
                }
                return try PHPArithmetic.divide(first, second, scope: scope)
            }
        case "%":
            return Compiled { scope in
                let first = try lhs(scope)
                let second = try rhs(scope)
                if phpLooselyEquals(.int(0), second, scope: scope) {
                    throw ExpressionError(.divisionByZero, "Modulo by zero.")
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
                throw ExpressionError(.error, "Unsupported operator \"\(op)\"")
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
            .typeError,
            "BinaryNode::evaluateMatches(): Argument #\(number) ($\(name)) must be of type "
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
