// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import FuzzSupport

@testable import BeaconContainer

/// The factory names YAML definitions may use in `class:`, as the tests' fixtures spell them.
private let factoryNames = [
    "Handler", "Mailer", "RequestID", "DynamicConfiguration", "MemcacheSessionHandler", "App\\Service",
]

/// The environment `%env()%` and `env()` read.
private let environment = [
    "MEMCACHED_PORT": "11211", "HOST": "db.internal", "FLAG": "true", "RATIO": "0.5",
    "LIST": "a,b,\"c,d\"", "DOC": #"{"a": [1, 2.5, "x", null, true], "b": {"c": "d"}}"#, "EMPTY": "",
]

/// Paths whose reading never ends (`/dev/zero`, `/dev/stdin`) or is not a file; inputs naming them are skipped,
/// since `imports:` reads what it names and an endless import is the file's author's doing, not a parser bug.
private let skippedPathParts = ["/dev", "/proc", "/sys"]

/// A service built by a fuzzed definition: it keeps its arguments and answers `getMemcached()`.
final class FuzzService: Sendable, ExpressionObject {
    let className: String
    let arguments: [ExpressionValue]

    init(className: String, arguments: [ExpressionValue]) {
        self.className = className
        self.arguments = arguments
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        self.arguments.first ?? .null
    }
}

/// One fuzz input: a Symfony-style container file (`parameters:`, `services:`, `imports:`, with `%params%`,
/// `%env()%`, `@refs` and `@=expressions`), loaded with `ContainerBuilder.loadYAML(_:file:directory:)` and built;
/// then every parameter is read and every service resolved, as an application does at start. Input that is not
/// valid UTF-8 is skipped (reading the file fails first). A thrown error is fine; anything else is a finding.
func fuzzContainerYAML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = FuzzInput.validText(data, size) else { return 0 }
    if skippedPathParts.contains(where: { text.contains($0) }) { return 0 }
    var builder = ContainerBuilder(environment: environment)
    for name in factoryNames {
        builder.registerFactory(name) { arguments in
            var values: [ExpressionValue] = []
            for index in 0..<arguments.count { values.append(try arguments.value(index)) }
            return FuzzService(className: name, arguments: values)
        }
    }
    do {
        try builder.loadYAML(text, file: "fuzz.yaml", directory: "/nonexistent-fuzz-directory")
    } catch {
        return 0
    }
    guard let container = try? builder.build() else { return 0 }
    for name in builder.parameterOrder {
        _ = try? container.parameter(name)
    }
    let ids = Array(builder.idOrder.prefix(16))
    runBlocking {
        for id in ids {
            _ = try? await container.get(id, as: FuzzService.self)
        }
    }
    return 0
}
