// SPDX-License-Identifier: Apache-2.0

/// The kind of `GetAttrNode`: `a.b`, `a.b()` or `a[b]`.
enum AttributeAccess: Sendable {
    case property
    case method
    case item
}

/// A node of the syntax tree, mirroring Symfony's `Node` classes.
indirect enum Node: Sendable {
    /// `ConstantNode`: a literal, or (with `isIdentifier`) the name after `.`.
    case constant(ExpressionValue, isIdentifier: Bool)
    /// `NameNode`: a variable.
    case name(String)
    /// `ArrayNode`: literal elements with their key nodes (lists get constant keys 0, 1, ...).
    case array([(key: Node, value: Node)])
    /// `UnaryNode`.
    case unary(String, Node)
    /// `BinaryNode`.
    case binary(String, Node, Node)
    /// `ConditionalNode`: `a ? b : c`.
    case conditional(Node, Node, Node)
    /// `FunctionNode`.
    case function(String, [Node])
    /// `GetAttrNode`: the receiver, the attribute (a constant identifier, or the key expression for `[]`),
    /// the method arguments, and the kind of access.
    case getAttribute(Node, Node, [Node], AttributeAccess)
}

extension Node {
    /// Symfony's `Node::dump()`, used to quote the receiver in runtime error messages.
    func dump() -> [UInt8] {
        var output: [UInt8] = []
        dump(into: &output)
        return output
    }

    private func append(_ text: String, to output: inout [UInt8]) {
        output += Array(text.utf8)
    }

    private func dump(into output: inout [UInt8]) {
        switch self {
        case .constant(let value, let isIdentifier):
            if isIdentifier {
                output += (try? phpString(of: value, scope: .silent)) ?? []
            } else {
                Node.dumpConstant(value, into: &output)
            }
        case .name(let name):
            append(name, to: &output)
        case .array(let elements):
            dumpArray(elements, into: &output)
        case .unary(let op, let operand):
            append("(\(op) ", to: &output)
            operand.dump(into: &output)
            append(")", to: &output)
        case .binary(let op, let left, let right):
            append("(", to: &output)
            left.dump(into: &output)
            append(" \(op) ", to: &output)
            right.dump(into: &output)
            append(")", to: &output)
        case .conditional(let condition, let then, let otherwise):
            append("(", to: &output)
            condition.dump(into: &output)
            append(" ? ", to: &output)
            then.dump(into: &output)
            append(" : ", to: &output)
            otherwise.dump(into: &output)
            append(")", to: &output)
        case .function(let name, let arguments):
            append(name, to: &output)
            append("(", to: &output)
            for (index, argument) in arguments.enumerated() {
                if index > 0 { append(", ", to: &output) }
                argument.dump(into: &output)
            }
            append(")", to: &output)
        case .getAttribute(let receiver, let attribute, let arguments, let access):
            receiver.dump(into: &output)
            switch access {
            case .property:
                append(".", to: &output)
                attribute.dump(into: &output)
            case .method:
                append(".", to: &output)
                attribute.dump(into: &output)
                append("(", to: &output)
                for (index, argument) in arguments.enumerated() {
                    if index > 0 { append(", ", to: &output) }
                    argument.dump(into: &output)
                }
                append(")", to: &output)
            case .item:
                append("[", to: &output)
                attribute.dump(into: &output)
                append("]", to: &output)
            }
        }
    }

    /// `ArrayNode::toArray()`: keys are the constant key values (non-constant keys read as `null`, i.e. `""`),
    /// normalised as PHP keys; a list dumps as `[a, b]`, anything else as `{k: v}`.
    private func dumpArray(_ elements: [(key: Node, value: Node)], into output: inout [UInt8]) {
        var keyed: [(key: ExpressionArrayKey, value: Node)] = []
        var positions: [ExpressionArrayKey: Int] = [:]
        for element in elements {
            var keyValue = ExpressionValue.null
            if case .constant(let value, _) = element.key {
                keyValue = value
            }
            let key = (try? phpArrayKey(keyValue, scope: .silent)) ?? .string(ExpressionString(bytes: []))
            if let existing = positions[key] {
                keyed[existing].value = element.value
            } else {
                positions[key] = keyed.count
                keyed.append((key, element.value))
            }
        }
        let isHash = keyed.enumerated().contains { $0.element.key != .int($0.offset) }
        if isHash {
            append("{", to: &output)
            for (index, entry) in keyed.enumerated() {
                if index > 0 { append(", ", to: &output) }
                Node.dumpConstant(entry.key.value, into: &output)
                append(": ", to: &output)
                entry.value.dump(into: &output)
            }
            append("}", to: &output)
        } else {
            append("[", to: &output)
            for (index, entry) in keyed.enumerated() {
                if index > 0 { append(", ", to: &output) }
                entry.value.dump(into: &output)
            }
            append("]", to: &output)
        }
    }

    /// `ConstantNode::toArray()` for a non-identifier value.
    private static func dumpConstant(_ value: ExpressionValue, into output: inout [UInt8]) {
        switch value {
        case .bool(let flag):
            output += Array((flag ? "true" : "false").utf8)
        case .null:
            output += Array("null".utf8)
        case .int(let integer):
            output += Array(String(integer).utf8)
        case .float(let double):
            output += phpFloatString(double)
        case .string(let string):
            if parseNumericString(string.bytes, allowErrors: false) != nil {
                output += string.bytes
            } else {
                output += dumpString(string.bytes)
            }
        case .array(let array):
            let isHash = array.keys.enumerated().contains { $0.element != .int($0.offset) }
            output.append(isHash ? UInt8(ascii: "{") : UInt8(ascii: "["))
            for (index, entry) in array.entries.enumerated() {
                if index > 0 { output += Array(", ".utf8) }
                if isHash {
                    dumpConstant(entry.key.value, into: &output)
                    output += Array(": ".utf8)
                }
                dumpConstant(entry.value, into: &output)
            }
            output.append(isHash ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        case .object(let object):
            output += Array(object.className.utf8)
        }
    }

    /// `Node::dumpString()`: `"..."` with PHP's `addcslashes($value, "\0\t\"\\")`.
    private static func dumpString(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        for byte in bytes {
            switch byte {
            case 0: output += Array("\\000".utf8)
            case 0x09: output += Array("\\t".utf8)
            case UInt8(ascii: "\""): output += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): output += Array("\\\\".utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
        return output
    }
}
