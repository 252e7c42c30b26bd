// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("JSON string literals")
struct JSONStringLiteralTests {
    /// What decoding the literal at the start of `bytes` gives: the text or the problem, and the offset then.
    private struct Outcome {
        var text: String?
        var problem: JSONStringLiteral.Problem?
        var offset: Int

        /// The problem and its offset, as one string.
        var failure: String? { problem.map { "\($0) \(offset)" } }
    }

    private func decode(_ bytes: [UInt8], strict: Bool) -> Outcome {
        bytes.withUnsafeBufferPointer { buffer -> Outcome in
            var offset = 0
            do throws(JSONStringLiteral.Problem) {
                let text = try JSONStringLiteral.decode(buffer, at: &offset, strict: strict)
                return Outcome(text: text, problem: nil, offset: offset)
            } catch {
                return Outcome(text: nil, problem: error, offset: offset)
            }
        }
    }

    private func decode(_ literal: String, strict: Bool) -> Outcome {
        decode(Array(literal.utf8), strict: strict)
    }

    @Test("escapes, \\u escapes and surrogate pairs decode in both modes; the offset ends after the closing quote")
    func decodes() {
        for strict in [true, false] {
            let decoded = decode(#""a\"b\\c\/d\b\f\n\r\t\u00e9\u4E2D\ud83d\ude00é" tail"#, strict: strict)
            #expect(decoded.text == "a\"b\\c/d\u{08}\u{0C}\n\r\té中😀é")
            #expect(decoded.offset == Array(#""a\"b\\c\/d\b\f\n\r\t\u00e9\u4E2D\ud83d\ude00é""#.utf8).count)
        }
    }

    @Test("lone surrogates and invalid UTF-8 are errors when strict and U+FFFD otherwise")
    func surrogates() {
        #expect(decode(#""\ud800x""#, strict: true).problem == .missingLowSurrogate)
        #expect(decode(#""\ud800\u0041""#, strict: true).problem == .invalidLowSurrogate)
        #expect(decode(#""\udc00""#, strict: true).problem == .loneLowSurrogate)
        #expect(decode(#""\ud800x""#, strict: false).text == "\u{FFFD}x")
        #expect(decode(#""\ud800\u0041""#, strict: false).text == "\u{FFFD}A")
        #expect(decode(#""\udc00""#, strict: false).text == "\u{FFFD}")
        #expect(decode([0x22, 0xFF, 0x22], strict: true).problem == .invalidUTF8)
        #expect(decode([0x22, 0xFF, 0x22], strict: false).text == "\u{FFFD}")
    }

    @Test("each problem is reported where it is")
    func problems() {
        #expect(decode(#""abc"#, strict: true).failure == "unterminated 4")
        #expect(decode("\"a\u{01}\"", strict: true).failure == "controlCharacter 2")
        #expect(decode(#""\x""#, strict: true).failure == "invalidEscape(120) 2")
        #expect(decode(#""\u12G4""#, strict: false).failure == "invalidHexDigits 5")
        // A sign is not a hexadecimal digit (integer parsing would have taken "+123").
        #expect(decode(#""\u+123""#, strict: true).failure == "invalidHexDigits 3")
        #expect(decode(#""\u12"#, strict: true).failure == "invalidHexDigits 5")
    }
}
