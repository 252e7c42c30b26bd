// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Foundation
import Testing

/// Hostile input ends in a clear error, never a crash.
@Suite("Robustness")
struct RobustnessTests {
    @Test("100,000 nested parentheses end in a nesting error")
    func deepParentheses() {
        let expression = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        let error = #expect(throws: ExpressionError.self) { try ExpressionLanguage().parse(expression, names: []) }
        #expect(error?.code == .nestingTooDeep)
    }

    @Test("nesting just under the limit still works")
    func nestingAtTheLimit() throws {
        let depth = 60
        let parentheses = String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        #expect(try ExpressionLanguage().evaluate(parentheses) == 1)
        let sum = Array(repeating: "1", count: depth).joined(separator: " + ")
        #expect(try ExpressionLanguage().evaluate(sum) == .int(depth))
        let negations = String(repeating: "-", count: depth) + "1"
        #expect(try ExpressionLanguage().evaluate(negations) == 1)
    }

    @Test(
        "nesting up to the limit ends in a value or a nesting error, never a stack overflow",
        arguments: [
            String(repeating: "(", count: 255) + "1" + String(repeating: ")", count: 255),
            String(repeating: "-", count: 254) + "1",
            String(repeating: "not ", count: 254) + "true",
            Array(repeating: "1", count: 255).joined(separator: "+"),
            Array(repeating: "2", count: 255).joined(separator: " ** "),
            String(repeating: "[", count: 254) + String(repeating: "]", count: 254),
            String(repeating: "{a: ", count: 254) + "1" + String(repeating: "}", count: 254),
            String(repeating: "a ? ", count: 127) + "1" + String(repeating: " : 2", count: 127),
            "o" + String(repeating: ".self()", count: 254),
            String(repeating: "f(", count: 254) + "1" + String(repeating: ")", count: 254),
        ]
    )
    func deepestAccepted(expression: String) throws {
        let language = ExpressionLanguage()
        language.register("f") { arguments in arguments.first ?? .null }
        do {
            // Release builds accept all of these; debug builds, whose frames are much larger, may run out of
            // the thread's stack first, which the stack guard reports as a nesting error.
            let parsed = try language.parse(expression, names: ["a", "o"])
            _ = try parsed.evaluate(values: ["a": true, "o": .object(SelfObject())])
            _ = parsed.description
        } catch let error as ExpressionError {
            #expect(error.code == .nestingTooDeep)
        }
    }

    @Test("a parse on a thread with a small stack ends in a nesting error")
    func smallStack() async {
        let expression = String(repeating: "[", count: 250) + String(repeating: "]", count: 250)
        let code = await withCheckedContinuation { (continuation: CheckedContinuation<ExpressionError.Code?, Never>) in
            let thread = Thread {
                do {
                    _ = try ExpressionLanguage().parse(expression, names: [])
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: (error as? ExpressionError)?.code)
                }
            }
            thread.stackSize = 192 * 1024
            thread.start()
        }
        #expect(code == .nestingTooDeep)
    }

    @Test(
        "long chains end in a nesting error",
        arguments: [
            Array(repeating: "1", count: 200_000).joined(separator: "+"),
            String(repeating: "-", count: 200_000) + "1",
            String(repeating: "not ", count: 200_000) + "true",
            "a" + String(repeating: ".b", count: 200_000),
            "a" + String(repeating: "[0]", count: 200_000),
            String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
            String(repeating: "a ? ", count: 100_000) + "1" + String(repeating: " : 2", count: 100_000),
        ]
    )
    func longChains(expression: String) {
        let error = #expect(throws: ExpressionError.self) { try ExpressionLanguage().parse(expression, names: ["a"]) }
        #expect(error?.code == .nestingTooDeep)
    }

    @Test("a 10 MB expression is handled")
    func tenMegabytes() throws {
        let language = ExpressionLanguage()
        let size = 10 * 1024 * 1024
        let literal = "\"" + String(repeating: "x", count: size) + "\""
        let value = try language.evaluate(literal)
        guard case .string(let string) = value else {
            Issue.record("expected a string")
            return
        }
        #expect(string.count == size)
        let sum = Array(repeating: "1", count: size / 2).joined(separator: "+")
        #expect(throws: ExpressionError.self) { try language.parse(sum, names: []) }
        let name = String(repeating: "a", count: size)
        let error = #expect(throws: ExpressionError.self) { try language.parse(name, names: ["b"]) }
        #expect(error?.code == .syntaxError)
    }

    @Test("random bytes end in a value or an ExpressionError")
    func randomBytes() {
        var generator = SplitMix64(seed: 0x5EED)
        let language = ExpressionLanguage()
        let alphabet = Array("()[]{}.,?:!~*/%+-<>=&|^\"'\\ 0123456789aenotrix_\u{7f}".utf8) + [0xFF, 0xC3, 0x00]
        for round in 0..<2000 {
            let length = Int(generator.next() % 64)
            let bytes = (0..<length).map { _ -> UInt8 in
                round % 2 == 0
                    ? UInt8(truncatingIfNeeded: generator.next())
                    : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            do {
                let parsed = try language.parse(bytes: bytes, names: ["a", "x"])
                _ = try? parsed.evaluate(values: ["a": [1, 2], "x": "x"])
            } catch {
                #expect(error is ExpressionError)
            }
        }
    }

    @Test("invalid UTF-8 lexes as PHP does, byte by byte")
    func invalidUTF8() throws {
        let language = ExpressionLanguage()
        let error = #expect(throws: ExpressionError.self) { try language.parse(bytes: [0xFF, 0xFE], names: []) }
        #expect(error?.code == .syntaxError)
        #expect(error?.position == 1)
        #expect(throws: ExpressionError.self) { try language.parse(bytes: [0x31, 0x2B, 0xC3], names: []) }
        let value = try language.parse(bytes: [0x22, 0xC3, 0x28, 0x22], names: []).evaluate()
        #expect(value == .string(ExpressionString(bytes: [0xC3, 0x28])))
    }
}

/// An object whose `self()` returns itself, for long method chains.
final class SelfObject: ExpressionObject {
    let className = "SelfObject"

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "self"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .object(self)
    }
}

/// A small deterministic generator for test input.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
