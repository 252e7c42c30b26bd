// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconPCRE2

/// A compiled PCRE2 pattern with the match limits PHP uses.
///
/// `@unchecked Sendable` is safe: both pointers are written once in `init` and freed once in `deinit`; a
/// compiled `pcre2_code` and a match context are read-only during `pcre2_match` (PCRE2 documents that a
/// compiled pattern may be shared by threads), and every match allocates its own match data.
final class CompiledRegex: @unchecked Sendable {
    private let code: OpaquePointer
    private let context: OpaquePointer?

    init(code: OpaquePointer) {
        self.code = code
        let context = pcre2_match_context_create_8(nil)
        if let context {
            // PHP's defaults: pcre.backtrack_limit=1000000, pcre.recursion_limit=100000.
            pcre2_set_match_limit_8(context, 1_000_000)
            pcre2_set_depth_limit_8(context, 100_000)
        }
        self.context = context
    }

    deinit {
        if let context {
            pcre2_match_context_free_8(context)
        }
        pcre2_code_free_8(code)
    }

    /// `preg_match`: 1 when the subject matches, 0 when it does not or matching fails (PHP returns `false`,
    /// which Symfony's `int` return type turns into 0).
    func matches(_ subject: [UInt8]) -> Int {
        guard let matchData = pcre2_match_data_create_from_pattern_8(code, nil) else { return 0 }
        defer { pcre2_match_data_free_8(matchData) }
        let result = subject.withUnsafeBufferPointer { buffer -> Int32 in
            let empty: [UInt8] = [0]
            if let base = buffer.baseAddress {
                return pcre2_match_8(code, base, buffer.count, 0, 0, matchData, context)
            }
            return empty.withUnsafeBufferPointer { pcre2_match_8(code, $0.baseAddress, 0, 0, 0, matchData, context) }
        }
        return result >= 0 ? 1 : 0
    }
}

/// PHP's `preg_match` pattern handling: delimiters, modifiers, and the warnings PHP raises for bad patterns.
enum PHPRegex {
    /// A compiled pattern, or PHP's warning text (without the `preg_match(): ` prefix).
    enum Compiled: Sendable {
        case regex(CompiledRegex)
        case invalid(String)
    }

    /// Compiled patterns by source text, as PHP's per-process regex cache (bounded).
    private static let cache = Lock<[[UInt8]: Compiled]>([:])
    private static let cacheLimit = 4096

    /// Compiles a pattern such as `/^a/i`, using the cache.
    static func compile(_ pattern: [UInt8]) -> Compiled {
        if let cached = cache.withLock({ $0[pattern] }) {
            return cached
        }
        let compiled = compileUncached(pattern)
        cache.withLock { entries in
            if entries.count >= cacheLimit {
                entries.removeAll(keepingCapacity: true)
            }
            entries[pattern] = compiled
        }
        return compiled
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func compileUncached(_ regex: [UInt8]) -> Compiled {
        var index = 0
        let end = regex.count
        while index < end, isSpace(regex[index]) {
            index += 1
        }
        if index >= end {
            return .invalid("Empty regular expression")
        }
        let startDelimiter = regex[index]
        index += 1
        if isAlphanumeric(startDelimiter) || startDelimiter == UInt8(ascii: "\\") || startDelimiter == 0 {
            return .invalid("Delimiter must not be alphanumeric, backslash, or NUL")
        }
        var endDelimiter = startDelimiter
        switch startDelimiter {
        case UInt8(ascii: "("): endDelimiter = UInt8(ascii: ")")
        case UInt8(ascii: "["): endDelimiter = UInt8(ascii: "]")
        case UInt8(ascii: "{"): endDelimiter = UInt8(ascii: "}")
        case UInt8(ascii: "<"): endDelimiter = UInt8(ascii: ">")
        default: break
        }
        let patternStart = index
        var cursor = index
        if startDelimiter == endDelimiter {
            while cursor < end {
                if regex[cursor] == UInt8(ascii: "\\"), cursor + 1 < end {
                    cursor += 1
                } else if regex[cursor] == endDelimiter {
                    break
                }
                cursor += 1
            }
        } else {
            var depth = 1
            while cursor < end {
                if regex[cursor] == UInt8(ascii: "\\"), cursor + 1 < end {
                    cursor += 1
                } else if regex[cursor] == endDelimiter {
                    depth -= 1
                    if depth <= 0 { break }
                } else if regex[cursor] == startDelimiter {
                    depth += 1
                }
                cursor += 1
            }
        }
        let delimiterText = String(decoding: [endDelimiter], as: UTF8.self)
        if cursor >= end {
            if startDelimiter == endDelimiter {
                return .invalid("No ending delimiter '\(delimiterText)' found")
            }
            return .invalid("No ending matching delimiter '\(delimiterText)' found")
        }
        let pattern = Array(regex[patternStart..<cursor])
        cursor += 1
        var options: UInt32 = 0
        var legacyEval = false
        while cursor < end {
            let modifier = regex[cursor]
            cursor += 1
            switch modifier {
            case UInt8(ascii: "i"): options |= UInt32(PCRE2_CASELESS)
            case UInt8(ascii: "m"): options |= UInt32(PCRE2_MULTILINE)
            case UInt8(ascii: "s"): options |= UInt32(PCRE2_DOTALL)
            case UInt8(ascii: "x"): options |= UInt32(PCRE2_EXTENDED)
            case UInt8(ascii: "A"): options |= UInt32(PCRE2_ANCHORED)
            case UInt8(ascii: "D"): options |= UInt32(PCRE2_DOLLAR_ENDONLY)
            case UInt8(ascii: "S"), UInt8(ascii: "X"): break
            case UInt8(ascii: "U"): options |= UInt32(PCRE2_UNGREEDY)
            case UInt8(ascii: "u"): options |= UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP)
            case UInt8(ascii: "J"): options |= UInt32(PCRE2_DUPNAMES)
            case UInt8(ascii: "n"): options |= UInt32(PCRE2_NO_AUTO_CAPTURE)
            case UInt8(ascii: "e"): legacyEval = true
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
            case 0: return .invalid("NUL is not a valid modifier")
            default:
                return .invalid("Unknown modifier '\(String(decoding: [modifier], as: UTF8.self))'")
            }
        }
        if legacyEval {
            return .invalid("The /e modifier is no longer supported, use preg_replace_callback instead")
        }
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let code = pattern.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            let empty: [UInt8] = [0]
            if let base = buffer.baseAddress {
                return pcre2_compile_8(base, buffer.count, options, &errorCode, &errorOffset, nil)
            }
            return empty.withUnsafeBufferPointer {
                pcre2_compile_8($0.baseAddress, 0, options, &errorCode, &errorOffset, nil)
            }
        }
        guard let code else {
            var message = [UInt8](repeating: 0, count: 256)
            let length = message.withUnsafeMutableBufferPointer {
                pcre2_get_error_message_8(errorCode, $0.baseAddress, $0.count)
            }
            let text = String(decoding: message.prefix(max(0, Int(length))), as: UTF8.self)
            return .invalid("Compilation failed: \(text) at offset \(errorOffset)")
        }
        return .regex(CompiledRegex(code: code))
    }
}
