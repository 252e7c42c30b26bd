// SPDX-License-Identifier: Apache-2.0

/// Symfony 5.4's `Parser` (precedence climbing) over the tokens of one expression.
struct Parser {
    /// The deepest syntax tree, and the deepest recursion, the parser accepts. Symfony 5.4 has no limit; this
    /// one keeps deeply nested input from exhausting the stack of the parser, the compiler or the evaluator
    /// (a ``StackGuard`` also stops the parser early on threads with small stacks).
    static let maximumDepth = 256

    private static let unaryPrecedence: [String: Int] = ["not": 50, "!": 50, "-": 500, "+": 500]

    private static let binaryOperators: [String: (precedence: Int, rightAssociative: Bool)] = [
        "or": (10, false), "||": (10, false), "and": (15, false), "&&": (15, false),
        "|": (16, false), "^": (17, false), "&": (18, false),
        "==": (20, false), "===": (20, false), "!=": (20, false), "!==": (20, false),
        "<": (20, false), ">": (20, false), ">=": (20, false), "<=": (20, false),
        "not in": (20, false), "in": (20, false), "matches": (20, false),
        "..": (25, false), "+": (30, false), "-": (30, false), "~": (40, false),
        "*": (60, false), "/": (60, false), "%": (60, false), "**": (200, true),
    ]

    /// A node and the height of its tree.
    private struct Parsed {
        var node: Node
        var depth: Int
    }

    private let tokens: [Token]
    private let expression: [UInt8]
    private let names: Set<[UInt8]>
    /// Variable names in the order Symfony proposes them (sorted ascending).
    private let nameProposals: [String]
    private let functions: Set<[UInt8]>
    /// Function names in registration order.
    private let functionProposals: [String]
    private var index = 0
    private var recursion = 0
    private let stack: StackGuard

    private init(tokens: [Token], expression: [UInt8], names: [String], functions: [String], stack: StackGuard) {
        self.stack = stack
        self.tokens = tokens
        self.expression = expression
        self.names = Set(names.map { Array($0.utf8) })
        self.nameProposals = names
        self.functions = Set(functions.map { Array($0.utf8) })
        self.functionProposals = functions
    }

    /// Lexes and parses an expression.
    ///
    /// - Parameters:
    ///   - expression: The expression bytes (not yet normalised).
    ///   - names: The allowed variable names, sorted as Symfony sorts them.
    ///   - functions: The registered function names, in registration order.
    ///   - stack: Watches the stack of the parsing thread.
    /// - Returns: The syntax tree.
    /// - Throws: Symfony's syntax errors, or a nesting error.
    static func parse(
        _ expression: [UInt8],
        names: [String],
        functions: [String],
        stack: StackGuard
    ) throws(ExpressionError) -> Node {
        let normalized = Lexer.normalize(expression)
        let tokens = try Lexer.tokenize(normalized)
        var parser = Parser(tokens: tokens, expression: normalized, names: names, functions: functions, stack: stack)
        let parsed = try parser.parseExpression()
        if !parser.current.test(.endOfExpression) {
            throw parser.unexpected(parser.current)
        }
        return parsed.node
    }

    private var current: Token { tokens[index] }

    private mutating func next() throws(ExpressionError) {
        guard index + 1 < tokens.count else {
            throw .syntax("Unexpected end of expression.", position: current.position, expression: expression)
        }
        index += 1
    }

    private mutating func expect(
        _ kind: Token.Kind,
        _ value: String? = nil,
        _ message: String? = nil
    )
        throws(ExpressionError)
    {
        let token = current
        if !token.test(kind, value) {
            var text = Array((message.map { $0 + ". " } ?? "").utf8)
            text += Array("Unexpected token \"\(token.kind.rawValue)\" of value \"".utf8) + token.valueBytes
            text += Array("\" (\"\(kind.rawValue)\" expected".utf8)
            if let value, !value.isEmpty, value != "0" {
                text += Array(" with value \"\(value)\"".utf8)
            }
            text += Array(").".utf8)
            throw .syntax(String(decoding: text, as: UTF8.self), position: token.position, expression: expression)
        }
        try next()
    }

    private func unexpected(_ token: Token) -> ExpressionError {
        let text =
            Array("Unexpected token \"\(token.kind.rawValue)\" of value \"".utf8) + token.valueBytes
            + Array("\".".utf8)
        return .syntax(String(decoding: text, as: UTF8.self), position: token.position, expression: expression)
    }

    private func tooDeep() -> ExpressionError {
        ExpressionError(
            .nestingTooDeep,
            "Expression nesting exceeds the limit of \(Parser.maximumDepth) levels around position "
                + "\(current.position).",
            position: current.position
        )
    }

    private func checked(_ parsed: Parsed) throws(ExpressionError) -> Parsed {
        if parsed.depth > Parser.maximumDepth {
            throw tooDeep()
        }
        return parsed
    }

    private mutating func parseExpression(_ precedence: Int = 0) throws(ExpressionError) -> Parsed {
        recursion += 1
        defer { recursion -= 1 }
        if recursion > Parser.maximumDepth {
            throw tooDeep()
        }
        if !stack.hasRoom() {
            throw ExpressionError(
                .nestingTooDeep,
                "Expression nesting exceeds the stack available to parse it around position "
                    + "\(current.position).",
                position: current.position
            )
        }
        var expr = try getPrimary()
        var token = current
        while token.kind == .operator, let op = Parser.binaryOperators[token.text], op.precedence >= precedence {
            try next()
            let right = try parseExpression(op.rightAssociative ? op.precedence : op.precedence + 1)
            expr = try checked(
                Parsed(node: .binary(token.text, expr.node, right.node), depth: max(expr.depth, right.depth) + 1)
            )
            token = current
        }
        if precedence == 0 {
            return try parseConditionalExpression(expr)
        }
        return expr
    }

    private mutating func getPrimary() throws(ExpressionError) -> Parsed {
        let token = current
        if token.kind == .operator, let precedence = Parser.unaryPrecedence[token.text] {
            try next()
            let operand = try parseExpression(precedence)
            let unary = try checked(Parsed(node: .unary(token.text, operand.node), depth: operand.depth + 1))
            return try parsePostfixExpression(unary)
        }
        if token.test(.punctuation, "(") {
            try next()
            let inner = try parseExpression()
            try expect(.punctuation, ")", "An opened parenthesis is not properly closed")
            return try parsePostfixExpression(inner)
        }
        return try parsePrimaryExpression()
    }

    private mutating func parseConditionalExpression(_ condition: Parsed) throws(ExpressionError) -> Parsed {
        var expr = condition
        while current.test(.punctuation, "?") {
            try next()
            let then: Parsed
            let otherwise: Parsed
            if !current.test(.punctuation, ":") {
                then = try parseExpression()
                if current.test(.punctuation, ":") {
                    try next()
                    otherwise = try parseExpression()
                } else {
                    otherwise = Parsed(node: .constant(.null, isIdentifier: false), depth: 1)
                }
            } else {
                try next()
                then = expr
                otherwise = try parseExpression()
            }
            expr = try checked(
                Parsed(
                    node: .conditional(expr.node, then.node, otherwise.node),
                    depth: max(expr.depth, then.depth, otherwise.depth) + 1
                )
            )
        }
        return expr
    }

    private mutating func parsePrimaryExpression() throws(ExpressionError) -> Parsed {
        let token = current
        let node: Parsed
        switch token.kind {
        case .name:
            try next()
            switch token.text {
            case "true", "TRUE": return Parsed(node: .constant(.bool(true), isIdentifier: false), depth: 1)
            case "false", "FALSE": return Parsed(node: .constant(.bool(false), isIdentifier: false), depth: 1)
            case "null", "NULL": return Parsed(node: .constant(.null, isIdentifier: false), depth: 1)
            default:
                if current.hasValue("(") {
                    guard functions.contains(token.bytes) else {
                        throw .syntax(
                            "The function \"\(token.text)\" does not exist.",
                            position: token.position,
                            expression: expression,
                            subject: token.bytes,
                            proposals: functionProposals
                        )
                    }
                    let arguments = try parseArguments()
                    let depth = (arguments.map(\.depth).max() ?? 0) + 1
                    node = Parsed(node: .function(token.text, arguments.map(\.node)), depth: depth)
                } else {
                    guard names.contains(token.bytes) else {
                        throw .syntax(
                            "Variable \"\(token.text)\" is not valid.",
                            position: token.position,
                            expression: expression,
                            subject: token.bytes,
                            proposals: nameProposals
                        )
                    }
                    node = Parsed(node: .name(token.text), depth: 1)
                }
            }
        case .number:
            try next()
            return Parsed(node: .constant(token.number?.value ?? .null, isIdentifier: false), depth: 1)
        case .string:
            try next()
            return Parsed(node: .constant(.string(ExpressionString(bytes: token.bytes)), isIdentifier: false), depth: 1)
        default:
            if token.test(.punctuation, "[") {
                node = try parseArrayExpression()
            } else if token.test(.punctuation, "{") {
                node = try parseHashExpression()
            } else {
                throw unexpected(token)
            }
        }
        return try parsePostfixExpression(node)
    }

    private mutating func parseArrayExpression() throws(ExpressionError) -> Parsed {
        try expect(.punctuation, "[", "An array element was expected")
        var elements: [(key: Node, value: Node)] = []
        var depth = 1
        var first = true
        while !current.test(.punctuation, "]") {
            if !first {
                try expect(.punctuation, ",", "An array element must be followed by a comma")
                if current.test(.punctuation, "]") {
                    break
                }
            }
            first = false
            let value = try parseExpression()
            depth = max(depth, value.depth + 1)
            elements.append((.constant(.int(elements.count), isIdentifier: false), value.node))
        }
        try expect(.punctuation, "]", "An opened array is not properly closed")
        return try checked(Parsed(node: .array(elements), depth: depth))
    }

    private mutating func parseHashExpression() throws(ExpressionError) -> Parsed {
        try expect(.punctuation, "{", "A hash element was expected")
        var elements: [(key: Node, value: Node)] = []
        var depth = 1
        var first = true
        while !current.test(.punctuation, "}") {
            if !first {
                try expect(.punctuation, ",", "A hash value must be followed by a comma")
                if current.test(.punctuation, "}") {
                    break
                }
            }
            first = false
            let key: Parsed
            let token = current
            if token.test(.string) || token.test(.name) {
                key = Parsed(
                    node: .constant(.string(ExpressionString(bytes: token.bytes)), isIdentifier: false),
                    depth: 1
                )
                try next()
            } else if token.test(.number) {
                key = Parsed(node: .constant(token.number?.value ?? .null, isIdentifier: false), depth: 1)
                try next()
            } else if token.test(.punctuation, "(") {
                key = try parseExpression()
            } else {
                let text =
                    Array(
                        ("A hash key must be a quoted string, a number, a name, or an expression enclosed in "
                            + "parentheses (unexpected token \"\(token.kind.rawValue)\" of value \"").utf8
                    ) + token.valueBytes + Array("\".".utf8)
                throw .syntax(String(decoding: text, as: UTF8.self), position: token.position, expression: expression)
            }
            try expect(.punctuation, ":", "A hash key must be followed by a colon (:)")
            let value = try parseExpression()
            depth = max(depth, key.depth + 1, value.depth + 1)
            elements.append((key.node, value.node))
        }
        try expect(.punctuation, "}", "An opened hash is not properly closed")
        return try checked(Parsed(node: .array(elements), depth: depth))
    }

    private mutating func parsePostfixExpression(_ start: Parsed) throws(ExpressionError) -> Parsed {
        var result = start
        var token = current
        while token.kind == .punctuation {
            if token.test(.punctuation, ".") {
                try next()
                token = current
                try next()
                let isName = token.kind == .name
                let isWordOperator =
                    token.kind == .operator && token.symbol.utf8.first.map(Parser.isNameStart) == true
                guard isName || isWordOperator else {
                    throw .syntax("Expected name.", position: token.position, expression: expression)
                }
                let attribute = Node.constant(.string(ExpressionString(bytes: token.valueBytes)), isIdentifier: true)
                if current.test(.punctuation, "(") {
                    let arguments = try parseArguments()
                    let depth = max(result.depth, arguments.map(\.depth).max() ?? 0) + 1
                    result = try checked(
                        Parsed(
                            node: .getAttribute(result.node, attribute, arguments.map(\.node), .method),
                            depth: depth
                        )
                    )
                } else {
                    result = try checked(
                        Parsed(node: .getAttribute(result.node, attribute, [], .property), depth: result.depth + 1)
                    )
                }
            } else if token.test(.punctuation, "[") {
                try next()
                let key = try parseExpression()
                try expect(.punctuation, "]")
                result = try checked(
                    Parsed(
                        node: .getAttribute(result.node, key.node, [], .item),
                        depth: max(result.depth, key.depth) + 1
                    )
                )
            } else {
                break
            }
            token = current
        }
        return result
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte >= 0x7F
    }

    private mutating func parseArguments() throws(ExpressionError) -> [Parsed] {
        var arguments: [Parsed] = []
        try expect(.punctuation, "(", "A list of arguments must begin with an opening parenthesis")
        while !current.test(.punctuation, ")") {
            if !arguments.isEmpty {
                try expect(.punctuation, ",", "Arguments must be separated by a comma")
            }
            arguments.append(try parseExpression())
        }
        try expect(.punctuation, ")", "A list of arguments must be closed by a parenthesis")
        return arguments
    }
}
