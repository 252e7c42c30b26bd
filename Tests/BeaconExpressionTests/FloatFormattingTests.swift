// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Foundation
import Testing

/// Float to string conversion at PHP's `precision=14`, checked against C's `%.13e` rounding.
@Suite("Float formatting")
struct FloatFormattingTests {
    @Test("random doubles print with 14 correctly rounded significant digits")
    func randomDoubles() throws {
        var generator = SplitMix64(seed: 42)
        for round in 0..<20_000 {
            let bits = generator.next()
            var value = Double(bitPattern: bits)
            if round % 2 == 0 {
                // Also cover short decimals such as 95.5 or 0.3.
                value = Double(Int64(bitPattern: bits) % 1_000_000) / 10
            }
            guard value.isFinite else { continue }
            let printed = ExpressionValue.float(value).description
            let expected = Double(String(format: "%.13e", value))
            #expect(Double(printed) == expected, "\(value) printed as \(printed)")
        }
    }
}
