// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import ExpressionCorpusSupport
import Foundation
import Testing

/// Runs every `el` case of the Symfony conformance corpus (or of the file `BEACON_EXPRESSION_CORPUS` names).
@Suite("Symfony conformance corpus")
struct ConformanceTests {
    static func corpusURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["BEACON_EXPRESSION_CORPUS"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return try #require(Bundle.module.url(forResource: "corpus", withExtension: "json"))
    }

    @Test("every el case matches Symfony 5.4 on PHP 8.2")
    func corpus() throws {
        let data = try Data(contentsOf: try Self.corpusURL())
        let corpus = try JSONDecoder().decode(CorpusJSON.self, from: data)
        let world = CorpusWorld(fixtures: corpus["fixtures"] ?? .null)
        let runner = CorpusCaseRunner(world: world)
        var passed = 0
        var failed = 0
        for testCase in corpus["cases"]?.array ?? [] where testCase["profile"]?.string == "el" {
            if let failure = runner.run(testCase) {
                failed += 1
                let id = testCase["id"]?.string ?? "?"
                let expression = testCase["expression"]?.string ?? testCase["expression_hex"]?.string ?? ""
                Issue.record("\(id) `\(expression)`: \(failure)")
            } else {
                passed += 1
            }
        }
        print("expression conformance: \(passed) passed, \(failed) failed")
        #expect(failed == 0)
        #expect(passed > 0)
    }
}
