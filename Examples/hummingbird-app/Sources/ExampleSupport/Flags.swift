// SPDX-License-Identifier: Apache-2.0

/// One command-line option: `--name value` or `--name=value`, or the environment variable `environment`.
public struct Option: Sendable {
    /// The flag's name without the dashes, such as `drain-delay`.
    public var name: String
    /// The environment variable read when the flag is absent, such as `BEACON_APP_DRAIN_DELAY`.
    public var environment: String
    /// The value when neither is given; `nil` for none.
    public var defaultValue: String?
    /// One line of help.
    public var help: String
    /// A password or token: its value is never printed.
    public var isSecret: Bool

    /// Creates an option.
    ///
    /// - Parameters:
    ///   - name: The flag's name without the dashes.
    ///   - environment: The environment variable read when the flag is absent.
    ///   - defaultValue: The value when neither is given.
    ///   - help: One line of help.
    ///   - isSecret: Whether the value must never be printed.
    public init(
        _ name: String,
        environment: String,
        defaultValue: String? = nil,
        help: String,
        isSecret: Bool = false
    ) {
        self.name = name
        self.environment = environment
        self.defaultValue = defaultValue
        self.help = help
        self.isSecret = isSecret
    }
}

/// A malformed command line or option value.
public struct FlagError: Error, CustomStringConvertible {
    /// What is wrong, naming the flag.
    public var description: String

    /// Creates an error.
    ///
    /// - Parameter description: What is wrong, naming the flag.
    public init(_ description: String) {
        self.description = description
    }
}

/// Options read from the command line, then the environment, then their defaults.
public struct Flags: Sendable {
    /// Whether `--help` was given.
    public let wantsHelp: Bool
    private let options: [Option]
    private let values: [String: String]

    /// Reads the options.
    ///
    /// - Parameters:
    ///   - options: The options the tool knows.
    ///   - arguments: The command line without the program name.
    ///   - environment: The process environment.
    /// - Throws: ``FlagError`` for an unknown flag or a flag without its value.
    public init(options: [Option], arguments: [String], environment: [String: String]) throws {
        self.options = options
        var given: [String: String] = [:]
        var help = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                help = true
                continue
            }
            guard argument.hasPrefix("--") else {
                throw FlagError("unexpected argument \"\(argument)\" (see --help)")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard options.contains(where: { $0.name == name }) else {
                throw FlagError("unknown option --\(name) (see --help)")
            }
            if value == nil {
                guard index < arguments.count else {
                    throw FlagError("--\(name) needs a value")
                }
                value = arguments[index]
                index += 1
            }
            given[name] = value
        }
        var values: [String: String] = [:]
        for option in options {
            if let value = given[option.name] ?? environment[option.environment] ?? option.defaultValue {
                values[option.name] = value
            }
        }
        self.values = values
        self.wantsHelp = help
    }

    /// The value of an option, if any.
    ///
    /// - Parameter name: The option's name.
    /// - Returns: The flag's value, else the environment's, else the default.
    public func string(_ name: String) -> String? {
        values[name]
    }

    /// The value of an option that always has one (it has a default).
    ///
    /// - Parameter name: The option's name.
    /// - Returns: The value.
    /// - Throws: ``FlagError`` when the option has no value.
    public func require(_ name: String) throws -> String {
        guard let value = values[name], !value.isEmpty else {
            throw FlagError("--\(name) is required")
        }
        return value
    }

    /// An integer option.
    ///
    /// - Parameter name: The option's name.
    /// - Returns: The value.
    /// - Throws: ``FlagError`` when the value is absent or not a whole number.
    public func int(_ name: String) throws -> Int {
        let text = try require(name)
        guard let value = Int(text) else {
            throw FlagError("--\(name) takes a whole number, not \"\(text)\"")
        }
        return value
    }

    /// A number option.
    ///
    /// - Parameter name: The option's name.
    /// - Returns: The value.
    /// - Throws: ``FlagError`` when the value is absent or not a number.
    public func double(_ name: String) throws -> Double {
        let text = try require(name)
        guard let value = Double(text), value.isFinite else {
            throw FlagError("--\(name) takes a number, not \"\(text)\"")
        }
        return value
    }

    /// A duration option written in seconds (`2`, `0.5`).
    ///
    /// - Parameter name: The option's name.
    /// - Returns: The value.
    /// - Throws: ``FlagError`` when the value is absent, negative or not a number.
    public func seconds(_ name: String) throws -> Duration {
        let value = try double(name)
        guard value >= 0 else {
            throw FlagError("--\(name) takes a number of seconds, not \(value)")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// The options and what they are set to now, one per line; secrets are shown as `<set>` or `<unset>`.
    public var summary: String {
        options.map { option in
            let value = values[option.name]
            let shown = option.isSecret ? (value.map { $0.isEmpty ? "<unset>" : "<set>" } ?? "<unset>") : (value ?? "")
            return "\(option.name)=\(shown)"
        }.joined(separator: " ")
    }

    /// The help text: a usage line, then one line per option with its variable and default.
    ///
    /// - Parameters:
    ///   - usage: The usage line.
    ///   - about: What the tool does, a few lines.
    /// - Returns: The text to print.
    public func help(usage: String, about: String) -> String {
        var lines = ["Usage: \(usage)", "", about, "", "Options (each also read from its environment variable):"]
        for option in options {
            var line = "  --\(option.name) (\(option.environment))"
            line += "\n      \(option.help)"
            if let value = option.defaultValue, !value.isEmpty, !option.isSecret {
                line += " Default: \(value)."
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
