// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import ExpressionCorpusSupport
import Foundation
import Testing

/// The YAML fixtures in `Resources/yaml`.
enum YAMLFixtures {
    static func path(_ name: String) throws -> String {
        let directory = try #require(Bundle.module.url(forResource: "yaml", withExtension: nil))
        return directory.appendingPathComponent(name).path
    }
}

/// A service of the YAML tests: the arguments it was built with.
final class Recorded: Sendable, ExpressionObject {
    let className: String
    let arguments: [ExpressionValue]

    init(_ className: String, _ arguments: [ExpressionValue]) {
        self.className = className
        self.arguments = arguments
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .string("memcached:" + (try ExpressionLanguage.string(self.arguments.first ?? .null).description))
    }
}

extension ContainerBuilder {
    /// Registers factories that record their arguments, under each of `names`.
    mutating func registerRecordingFactories(_ names: [String]) {
        for name in names {
            registerFactory(name) { arguments in
                var values: [ExpressionValue] = []
                for index in 0..<arguments.count {
                    values.append(try arguments.value(index))
                }
                return Recorded(name, values)
            }
        }
    }
}
