// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import BenchmarkSupport

/// The service the first expression reaches, as a Symfony-style configuration object.
final class Configuration: ExpressionObject {
    let className = "Configuration"
    let host = "10.0.0.1"
    let port = 11211

    /// The hand-written Swift method.
    func memcached() -> String {
        "memcached:" + host + ":" + String(port)
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .string(memcached())
    }
}

/// A minimal service container.
struct Services: Sendable {
    let services: [String: Configuration]

    func get(_ id: String) throws -> Configuration {
        guard let service = services[id] else {
            throw ExpressionError(.runtimeError, "You have requested a non-existent service \"\(id)\".")
        }
        return service
    }
}

let services = Services(services: ["conf": Configuration()])
let language = ExpressionLanguage()
language.register("service") { arguments in
    guard case .string(let id)? = arguments.first else { return .null }
    return .object(try services.get(id.description))
}

let benchmark = Benchmark(iterations: 200_000, warmUpIterations: 20_000, rounds: 7)

// 1. service('conf').getMemcached()
let serviceExpression = "service('conf').getMemcached()"
let serviceParsed = try language.parse(serviceExpression, names: [])
let serviceBaseline: ([String: ExpressionValue]) throws -> ExpressionValue = { _ in
    .string(try services.get("conf").memcached())
}
let serviceResult = try serviceParsed.evaluate()
let serviceExpected = try serviceBaseline([:])
precondition(serviceResult == serviceExpected)
print(
    try benchmark.compare(
        "evaluate \(serviceExpression)",
        subject: { try serviceParsed.evaluate() },
        baseline: { try serviceBaseline([:]) }
    )
)

// 2. 1 + 2 * 3 > 4 and x in [1, 2, 3]
let logicExpression = "1 + 2 * 3 > 4 and x in [1, 2, 3]"
let logicParsed = try language.parse(logicExpression, names: ["x"])
let logicValues: [String: ExpressionValue] = ["x": 2]
let logicBaseline: ([String: ExpressionValue]) -> ExpressionValue = { values in
    let arithmetic = 1 + 2 * 3 > 4
    switch values["x"] {
    case .int(let x)?: return .bool(arithmetic && (x == 1 || x == 2 || x == 3))
    case let x?: return .bool(arithmetic && [1, 2, 3].contains { x.looselyEquals(.int($0)) })
    case nil: return false
    }
}
let logicResult = try logicParsed.evaluate(values: logicValues)
precondition(logicResult == logicBaseline(logicValues))
print(
    try benchmark.compare(
        "evaluate \(logicExpression)",
        subject: { try logicParsed.evaluate(values: logicValues) },
        baseline: { logicBaseline(logicValues) }
    )
)

// 3. Parse time (lexing, parsing, name checks and compilation to closures), uncached and cached.
let parseBenchmark = Benchmark(iterations: 20_000, warmUpIterations: 2_000, rounds: 5)
for (expression, names) in [(serviceExpression, [String]()), (logicExpression, ["x"])] {
    print(
        try parseBenchmark.measure("parse \(expression)") {
            try language.parse(expression, names: names, useCache: false)
        }
    )
    print(try parseBenchmark.measure("parse \(expression) (cached)") { try language.parse(expression, names: names) })
}
