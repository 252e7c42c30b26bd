// SPDX-License-Identifier: Apache-2.0

package import BeaconExpression
import BeaconLocks

/// An error a fixture throws, standing for a PHP exception of the given class.
package struct FixtureError: Error, Equatable {
    package let className: String
    package let message: String

    package init(className: String, message: String) {
        self.className = className
        self.message = message
    }
}

private func tooFewArguments(_ function: String, passed: Int, expected: String) -> ExpressionError {
    ExpressionError(
        .argumentCountError,
        "Too few arguments to function \(function)(), \(passed) passed and \(expected) expected"
    )
}

private func privateProperty(_ className: String, _ name: String) -> ExpressionError {
    ExpressionError(.error, "Cannot access private property \(className)::$\(name)")
}

/// An object with public properties only (objects in the corpus that are not fixtures).
package final class PlainObject: ExpressionObject {
    package let className: String
    package let properties: [String: ExpressionValue]

    package init(className: String, properties: [String: ExpressionValue]) {
        self.className = className
        self.properties = properties
    }

    package func property(named name: String) throws -> ExpressionValue? {
        properties[name]
    }
}

/// The corpus's `Conf` fixture.
package final class ConfFixture: ExpressionObject {
    package let className = "Conf"
    package let properties: [String: ExpressionValue]

    package init(properties: [String: ExpressionValue]) {
        self.properties = properties
    }

    package func property(named name: String) throws -> ExpressionValue? {
        if name == "secret" {
            throw privateProperty(className, name)
        }
        return properties[name]
    }

    private static let methods: Set<String> = [
        "getmemcached", "gethost", "getport", "add", "concat", "getoptions", "getself", "getnull", "isenabled",
        "matches", "not", "fail",
    ]

    package func hasMethod(named lowercasedName: String) -> Bool {
        Self.methods.contains(lowercasedName)
    }

    package func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        let host = properties["host"] ?? .null
        let port = properties["port"] ?? .null
        switch lowercasedName {
        case "getmemcached":
            let text =
                try ExpressionLanguage.string(host).description + ":" + ExpressionLanguage.string(port).description
            return .string("memcached:" + text)
        case "gethost": return host
        case "getport": return port
        case "add":
            guard arguments.count >= 2 else {
                throw tooFewArguments("Conf::add", passed: arguments.count, expected: "exactly 2")
            }
            return try ExpressionLanguage.add(arguments[0], arguments[1])
        case "concat":
            var bytes: [UInt8] = []
            for (index, part) in arguments.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: "-")) }
                bytes += try ExpressionLanguage.string(part).bytes
            }
            return .string(ExpressionString(bytes: bytes))
        case "getoptions":
            return ["timeout": 5, "retries": 3, "servers": ["a", "b"]]
        case "getself": return .object(self)
        case "getnull": return .null
        case "isenabled": return properties["enabled"] ?? .null
        case "matches":
            guard let subject = arguments.first else {
                throw tooFewArguments("Conf::matches", passed: 0, expected: "exactly 1")
            }
            return .string(
                ExpressionString(bytes: Array("method-matches:".utf8) + (try ExpressionLanguage.string(subject).bytes))
            )
        case "not": return "method-not"
        case "fail": throw FixtureError(className: "RuntimeException", message: "Conf::fail() was called")
        default: return .null
        }
    }
}

/// The corpus's `Mailer` fixture.
package final class MailerFixture: ExpressionObject {
    package let className = "Mailer"
    package let transport: ExpressionValue

    package init(transport: ExpressionValue) {
        self.transport = transport
    }

    package func property(named name: String) throws -> ExpressionValue? {
        name == "transport" ? transport : nil
    }

    package func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "send" || lowercasedName == "gettransport"
    }

    package func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        if lowercasedName == "gettransport" {
            return transport
        }
        guard let recipient = arguments.first else {
            throw tooFewArguments("Mailer::send", passed: 0, expected: "at least 1")
        }
        let subject = arguments.count > 1 ? arguments[1] : "hello"
        let text =
            "sent \"\(try ExpressionLanguage.string(subject))\" to \(try ExpressionLanguage.string(recipient)) via "
            + "\(try ExpressionLanguage.string(transport))"
        return .string(text)
    }
}

/// The corpus's `Point` fixture.
package final class PointFixture: ExpressionObject {
    package init() {}

    package let className = "Point"

    package func property(named name: String) throws -> ExpressionValue? {
        switch name {
        case "x": .int(1)
        case "y": .int(2)
        default: nil
        }
    }
}

/// The corpus's `Bag` fixture: `ArrayAccess` over `{a: 1, b: [1, 2], 0: "zero"}`.
package final class BagFixture: ExpressionObject {
    package init() {}

    package let className = "Bag"
    package let items: ExpressionArray = {
        var items = ExpressionArray()
        items[.string("a")] = 1
        items[.string("b")] = [1, 2]
        items[.int(0)] = "zero"
        return items
    }()

    package func property(named name: String) throws -> ExpressionValue? {
        if name == "items" {
            throw privateProperty(className, name)
        }
        return nil
    }

    package func hasMethod(named lowercasedName: String) -> Bool {
        ["offsetget", "offsetexists", "offsetset", "offsetunset"].contains(lowercasedName)
    }

    package func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        guard let key = arguments.first else {
            throw tooFewArguments("Bag::\(lowercasedName)", passed: 0, expected: "exactly 1")
        }
        switch lowercasedName {
        case "offsetget": return try item(forKey: key)
        case "offsetexists": return .bool(!(try item(forKey: key)).isNull)
        default: return .null
        }
    }

    package var isSubscriptable: Bool { true }

    package func item(forKey key: ExpressionValue) throws -> ExpressionValue {
        let arrayKey: ExpressionArrayKey
        switch key {
        case .null: arrayKey = .string("")
        case .bool(let flag): arrayKey = .int(flag ? 1 : 0)
        case .int(let value): arrayKey = .int(value)
        case .float(let value): arrayKey = .int(value.isFinite ? Int(value) : 0)
        case .string(let value): arrayKey = ExpressionArrayKey(normalizing: value)
        case .array, .object: throw ExpressionError(.typeError, "Illegal offset type in isset or empty")
        }
        return items[arrayKey] ?? .null
    }
}

/// The corpus's `Counter` fixture: `next()` counts up from the value `reset()` sets.
package final class CounterFixture: ExpressionObject {
    package init() {}

    package let className = "Counter"
    private let count = Lock(0)

    package func reset() {
        count.withLock { $0 = 0 }
    }

    package func property(named name: String) throws -> ExpressionValue? {
        name == "n" ? .int(count.withLock { $0 }) : nil
    }

    package func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "next"
    }

    package func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .int(
            count.withLock { value in
                value += 1
                return value
            }
        )
    }
}
