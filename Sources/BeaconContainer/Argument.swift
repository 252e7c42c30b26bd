// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression

/// One constructor argument of a service defined by a named factory, as written in YAML or in code.
///
/// Strings use the YAML syntax: `@id` is a service, `@?id` a service or `null` when it is not defined,
/// `@=expr` an expression, `@@text` the string `@text`, `%name%` a parameter (also inside a string:
/// `"%host%:%port%"`), `%env(int:NAME)%` an environment variable through a processor, `%%` a literal `%`.
///
/// ```swift
/// builder.register("handler", factory: "MemcacheSessionHandler", arguments: [
///     "@=service('conf').getMemcached()", "%session.ttl%", .value(3),
/// ])
/// ```
public struct Argument: Sendable, ExpressibleByStringLiteral {
    indirect enum Storage: Sendable {
        case text(String)
        case value(ExpressionValue)
        case list([Argument])
        case map([(key: String, value: Argument)])
    }

    let storage: Storage
    let location: ContainerError.Location?

    init(_ storage: Storage, location: ContainerError.Location? = nil) {
        self.storage = storage
        self.location = location
    }

    /// A string in the YAML argument syntax (`@id`, `@?id`, `@=expr`, `%name%`, `%env(NAME)%`, escapes).
    ///
    /// - Parameter text: The string.
    /// - Returns: The argument.
    public static func parsing(_ text: String) -> Argument {
        Argument(.text(text))
    }

    /// Creates an argument from a string literal in the YAML argument syntax.
    ///
    /// - Parameter value: The literal.
    public init(stringLiteral value: String) {
        self.init(.text(value))
    }

    /// A literal value, taken as is (strings are not searched for `%` or `@`).
    ///
    /// - Parameter value: The value.
    /// - Returns: The argument.
    public static func value(_ value: ExpressionValue) -> Argument {
        Argument(.value(value))
    }

    /// The service `id` (`@id`).
    ///
    /// - Parameter id: The service id.
    /// - Returns: The argument.
    public static func service(_ id: String) -> Argument {
        Argument(.text("@" + id))
    }

    /// The service `id`, or `null` when no such service is defined (`@?id`).
    ///
    /// - Parameter id: The service id.
    /// - Returns: The argument.
    public static func optionalService(_ id: String) -> Argument {
        Argument(.text("@?" + id))
    }

    /// The parameter `name` with its own type (`%name%`).
    ///
    /// - Parameter name: The parameter name.
    /// - Returns: The argument.
    public static func parameter(_ name: String) -> Argument {
        Argument(.text("%" + name + "%"))
    }

    /// An expression evaluated when the service is built (`@=expression`).
    ///
    /// - Parameter expression: The expression, which may use `service()`, `parameter()`, `env()` and `container`.
    /// - Returns: The argument.
    public static func expression(_ expression: String) -> Argument {
        Argument(.text("@=" + expression))
    }

    /// A list of arguments, passed to the factory as one list.
    ///
    /// - Parameter elements: The elements.
    /// - Returns: The argument.
    public static func list(_ elements: [Argument]) -> Argument {
        Argument(.list(elements))
    }
}
