// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// Decimal digits of a positive finite double and the decimal point position (`0.d1d2... x 10^decpt`).
private struct DecimalDigits {
    var digits: [UInt8]
    var decimalPoint: Int
}

/// The digits of `value` rounded to `precision` significant digits (zend_dtoa mode 2), trailing zeros removed.
private func roundedDigits(_ value: Double, precision: Int) -> DecimalDigits {
    var buffer = [CChar](repeating: 0, count: 64)
    let format = "%.\(precision - 1)e"
    _ = buffer.withUnsafeMutableBufferPointer { pointer in
        withVaList([value]) { arguments in
            vsnprintf(pointer.baseAddress, pointer.count, format, arguments)
        }
    }
    let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return decimalDigits(fromScientific: text)
}

/// The shortest digits that round-trip (zend_dtoa mode 0), from Swift's own shortest formatting.
private func shortestDigits(_ value: Double) -> DecimalDigits {
    decimalDigits(fromScientific: value.description.utf8)
}

/// Reads `d.ddde±x`, `d.ddd` or `ddd` text into digits and a decimal point position, in one pass.
private func decimalDigits<Text: Collection<UInt8>>(fromScientific text: Text) -> DecimalDigits {
    var digits: [UInt8] = []
    digits.reserveCapacity(20)
    var pointIndex: Int?
    var inExponent = false
    var exponent = 0
    var negativeExponent = false
    for byte in text {
        if inExponent {
            if byte == UInt8(ascii: "-") {
                negativeExponent = true
            } else if isDecimalDigit(byte) {
                exponent = exponent * 10 + Int(byte - 0x30)
            }
        } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            inExponent = true
        } else if byte == UInt8(ascii: ".") {
            pointIndex = digits.count
        } else if isDecimalDigit(byte) {
            digits.append(byte)
        }
    }
    var decimalPoint = (pointIndex ?? digits.count) + (negativeExponent ? -exponent : exponent)
    var leadingZeros = 0
    while leadingZeros < digits.count - 1, digits[leadingZeros] == UInt8(ascii: "0") {
        leadingZeros += 1
    }
    if leadingZeros > 0 {
        digits.removeFirst(leadingZeros)
        decimalPoint -= leadingZeros
    }
    while digits.count > 1, digits[digits.count - 1] == UInt8(ascii: "0") {
        digits.removeLast()
    }
    return DecimalDigits(digits: digits, decimalPoint: decimalPoint)
}

/// PHP's `zend_gcvt` layout of digits: plain notation, or `d.dddE+x` when the exponent is out of range.
private func gcvt(_ value: Double, digits source: DecimalDigits, threshold: Int) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(source.digits.count + 8)
    if value.sign == .minus {
        output.append(UInt8(ascii: "-"))
    }
    let digits = source.digits
    var decimalPoint = source.decimalPoint
    if decimalPoint < 0 ? decimalPoint < -3 : decimalPoint > threshold {
        decimalPoint -= 1
        let negativeExponent = decimalPoint < 0
        output.append(digits[0])
        output.append(UInt8(ascii: "."))
        if digits.count == 1 {
            output.append(UInt8(ascii: "0"))
        } else {
            output += digits[1...]
        }
        output.append(UInt8(ascii: "E"))
        output.append(negativeExponent ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        output += Array(String(abs(decimalPoint)).utf8)
    } else if decimalPoint < 0 {
        output += [UInt8(ascii: "0"), UInt8(ascii: ".")]
        output += [UInt8](repeating: UInt8(ascii: "0"), count: -decimalPoint)
        output += digits
    } else {
        for index in 0..<decimalPoint {
            output.append(index < digits.count ? digits[index] : UInt8(ascii: "0"))
        }
        if digits.count > decimalPoint {
            if decimalPoint == 0 {
                output.append(UInt8(ascii: "0"))
            }
            output.append(UInt8(ascii: "."))
            output += digits[decimalPoint...]
        }
    }
    return output
}

/// PHP's conversion of a float to a string (`precision=14`): `0.3`, `1.0E+20`, `-0`, `INF`, `NAN`.
func phpFloatString(_ value: Double) -> [UInt8] {
    if value.isNaN { return Array("NAN".utf8) }
    if value.isInfinite { return Array((value < 0 ? "-INF" : "INF").utf8) }
    if value == 0 { return Array((value.sign == .minus ? "-0" : "0").utf8) }
    // When the shortest round-tripping form has at most 14 significant digits, rounding the exact value to
    // 14 digits gives the same digits (the value is within half an ulp of them), so skip printf.
    let shortest = shortestDigits(abs(value))
    if shortest.digits.count <= 14 {
        return gcvt(value, digits: shortest, threshold: 14)
    }
    return gcvt(value, digits: roundedDigits(abs(value), precision: 14), threshold: 14)
}

/// PHP's `%.*H` with precision -1 (`serialize_precision=-1`): the shortest round-tripping form, such as
/// `7.5` or `1.0E+25`, as used in deprecation messages.
func phpRepr(_ value: Double) -> String {
    if value.isNaN { return "NAN" }
    if value.isInfinite { return value < 0 ? "-INF" : "INF" }
    if value == 0 { return value.sign == .minus ? "-0" : "0" }
    return String(decoding: gcvt(value, digits: shortestDigits(abs(value)), threshold: 17), as: UTF8.self)
}
