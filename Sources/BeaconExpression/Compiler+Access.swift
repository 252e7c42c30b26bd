// SPDX-License-Identifier: Apache-2.0

/// Functions, properties, methods and `[]`.
extension Compiler {
    func compileFunction(_ name: String, _ argumentNodes: [Node]) throws -> Compiled {
        // Arrays and dictionaries of bare closures hold them maximally abstracted, and every call would go
        // through a reabstraction thunk: the closures are kept inside `Compiled` and `RegisteredFunction`.
        let arguments = try argumentNodes.map { try compileNode($0) }
        guard let function = functions[name]?.evaluate else {
            // The parser only accepts registered names; this cannot happen, but fail cleanly if it does.
            return Compiled { _ in
                throw ExpressionError(.error, "Call to undefined function \(name)()")
            }
        }
        switch arguments.count {
        case 0:
            return Compiled { scope in try function(scope.values, []) }
        case 1:
            let first = arguments[0].evaluate
            return Compiled { scope in try function(scope.values, [try first(scope)]) }
        default:
            return Compiled { scope in
                var values: [ExpressionValue] = []
                values.reserveCapacity(arguments.count)
                for argument in arguments {
                    values.append(try argument.evaluate(scope))
                }
                return try function(scope.values, values)
            }
        }
    }

    func compileAttribute(
        _ receiverNode: Node,
        _ attribute: Node,
        _ argumentNodes: [Node],
        _ access: AttributeAccess
    ) throws -> Compiled {
        let receiver = try compileNode(receiverNode).evaluate
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
            let arguments = try argumentNodes.map { try compileNode($0) }
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
                    values.append(try argument.evaluate(scope))
                }
                return try object.callMethod(named: lowercased, arguments: values)
            }
        case .item:
            let key = try compileNode(attribute).evaluate
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
}
