// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import FuzzSupport

/// An object for fuzzed expressions to reach: properties, case-insensitive methods and `[]`.
final class FuzzObject: ExpressionObject {
    let className = "Fuzz"

    func property(named name: String) throws -> ExpressionValue? {
        name == "name" ? "fuzz" : nil
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "echo" || lowercasedName == "self"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        lowercasedName == "self" ? .object(self) : (arguments.first ?? .null)
    }

    var isSubscriptable: Bool { true }

    func item(forKey key: ExpressionValue) throws -> ExpressionValue { key }
}

/// The language and variables every input is parsed and evaluated with.
enum Fuzz {
    static let language: ExpressionLanguage = {
        let language = ExpressionLanguage()
        language.register("service") { _ in .object(FuzzObject()) }
        language.register("env") { arguments in arguments.first ?? .null }
        return language
    }()

    static let values: [String: ExpressionValue] = [
        "a": 1, "b": 2.5, "s": "hello", "n": nil, "t": true, "items": [10, 20, 30],
        "user": ["name": "Ann", "roles": ["admin"]], "obj": .object(FuzzObject()),
    ]

    static let names = Array(values.keys)
}

/// One fuzz input: parse the bytes, and evaluate what parses. Anything but a value or a thrown
/// `ExpressionError` (a crash, a trap, a sanitizer report) is a finding.
func fuzzExpression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    do {
        let parsed = try Fuzz.language.parse(bytes: bytes, names: Fuzz.names, useCache: false)
        _ = try? parsed.evaluate(values: Fuzz.values)
        _ = parsed.description
    } catch is ExpressionError {
        return 0
    } catch {
        fatalError("parse threw a non-ExpressionError: \(error)")
    }
    return 0
}
