// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Testing

/// The ordered map behind PHP arrays.
@Suite("ExpressionArray")
struct ExpressionArrayTests {
    @Test("keys keep their first position; removal keeps the order of the rest")
    func orderedMap() {
        var array = ExpressionArray(list: ["a", "b", "c"])
        #expect(array.isList)
        array[.string("x")] = 1
        array[.int(0)] = "z"
        #expect(array.keys == [.int(0), .int(1), .int(2), .string("x")])
        #expect(array[.int(0)] == "z")
        array[.int(1)] = nil
        #expect(array.keys == [.int(0), .int(2), .string("x")])
        #expect(array[.int(2)] == "c")
        #expect(!array.isList)
        array.append("d")
        #expect(array[.int(3)] == "d")
        #expect(array.count == 4)
    }

    @Test("string keys that are canonical integers become integer keys")
    func keyNormalization() {
        #expect(ExpressionArrayKey(normalizing: "1") == .int(1))
        #expect(ExpressionArrayKey(normalizing: "-5") == .int(-5))
        #expect(ExpressionArrayKey(normalizing: "01") == .string("01"))
        #expect(ExpressionArrayKey(normalizing: "-0") == .string("-0"))
        #expect(ExpressionArrayKey(normalizing: "1.0") == .string("1.0"))
        #expect(ExpressionArrayKey(normalizing: "9223372036854775807") == .int(Int.max))
        #expect(ExpressionArrayKey(normalizing: "9223372036854775808") == .string("9223372036854775808"))
        #expect(ExpressionArrayKey(normalizing: "-9223372036854775808") == .int(Int.min))
    }
}
