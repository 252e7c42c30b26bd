// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("Base64")
struct Base64Tests {
    @Test("base64 round-trips every length and refuses damaged text")
    func roundTrip() {
        var bytes: [UInt8] = []
        for length in 0..<64 {
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            bytes.append(UInt8(truncatingIfNeeded: length &* 37 &+ 11))
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        for damaged in ["Zm9", "Zm9v!mFy", "Z===", "=Zm8", "Zm=8"] {
            #expect(Base64.decode(damaged) == nil, "\(damaged)")
        }
    }

    @Test("a substring decodes as the same text does")
    func substring() {
        let text = "  Zm9vYmFy\n"
        let trimmed = text.dropFirst(2).dropLast()
        #expect(Base64.decode(trimmed) == Array("foobar".utf8))
    }
}
