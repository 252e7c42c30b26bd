// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import BeaconLocks
import ExpressionCorpusSupport
import Foundation
import Testing

/// The corpus fixtures and variable pool, shared by the focused tests.
enum TestWorld {
    static let corpus: CorpusJSON = {
        guard let url = Bundle.module.url(forResource: "corpus", withExtension: "json"),
            let data = try? Data(contentsOf: url),
            let corpus = try? JSONDecoder().decode(CorpusJSON.self, from: data)
        else { return .null }
        return corpus
    }()

    static let world = CorpusWorld(fixtures: corpus["fixtures"] ?? .null)

    /// Every variable of the corpus's pool (`a`, `items`, `conf`, ...).
    static let values: [String: ExpressionValue] = {
        var values: [String: ExpressionValue] = [:]
        for (name, value) in corpus["fixtures"]?["variable_pool"]?.object ?? [:] {
            values[name] = world.decoder.decode(value)
        }
        return values
    }()

    /// Evaluates with the whole pool as variables.
    static func evaluate(_ expression: String) throws -> ExpressionValue {
        world.counter.reset()
        return try world.language.evaluate(expression, values: values)
    }

    /// Evaluates and collects diagnostics.
    static func evaluateCollecting(_ expression: String) throws -> (ExpressionValue, [ExpressionDiagnostic]) {
        let collected = Lock<[ExpressionDiagnostic]>([])
        world.counter.reset()
        let value = try world.language.evaluate(expression, values: values) { diagnostic in
            collected.withLock { $0.append(diagnostic) }
        }
        return (value, collected.withLock { $0 })
    }

    /// The `ExpressionError` an expression raises when parsed or evaluated with the pool.
    static func error(_ expression: String) -> ExpressionError? {
        do {
            _ = try evaluate(expression)
            return nil
        } catch let error as ExpressionError {
            return error
        } catch {
            return nil
        }
    }
}
