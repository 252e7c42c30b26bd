// SPDX-License-Identifier: Apache-2.0

import Beacon
import Testing

@Suite("JSON reader and writer")
struct JSONReaderTests {
    private func parse(_ text: String) throws(JSONError) -> JSONValue {
        try JSONReader.parse(Array(text.utf8))
    }

    /// The error reading `bytes` gives, as `message @line:column`.
    private func failure(_ bytes: [UInt8], rejectingDuplicateKeys: Bool = false) -> String? {
        do {
            _ = try JSONReader.parse(bytes, rejectingDuplicateKeys: rejectingDuplicateKeys)
            return nil
        } catch {
            return "\(error.message) @\(error.line ?? 0):\(error.column ?? 0)"
        }
    }

    private func failure(_ text: String, rejectingDuplicateKeys: Bool = false) -> String? {
        self.failure(Array(text.utf8), rejectingDuplicateKeys: rejectingDuplicateKeys)
    }

    @Test("values of every kind; white space and a byte order mark around the value are allowed")
    func values() throws {
        let json = try JSONReader.parse(
            [0xEF, 0xBB, 0xBF] + Array(" {\"a\": [true, false, null, \"x\", 1], \"b\": {}, \"c\": []}\r\n\t".utf8)
        )
        #expect(
            json
                == .object([
                    ("a", .array([.bool(true), .bool(false), .null, .string("x"), .number("1")])),
                    ("b", .object([])), ("c", .array([])),
                ])
        )
    }

    @Test(
        "numbers keep the text they were written as",
        arguments: ["0", "-0", "1.50", "1E+2", "-2.5e-3", "18446744073709551616"]
    )
    func numbers(text: String) throws {
        #expect(try parse(text) == .number(text))
        #expect(try parse("[\(text)]") == .array([.number(text)]))
    }

    @Test("strings: escapes, \\u escapes and surrogate pairs decode; UTF-8 is kept as it is")
    func strings() throws {
        #expect(
            try parse(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4E2D", "\ud83d\ude00", "héllo 😀", ""]"#)
                == .array([
                    .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"), .string("é中"), .string("😀"), .string("héllo 😀"),
                    .string(""),
                ])
        )
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test(
        "malformed documents are refused with the line and column of the problem",
        arguments: [
            ("", "unexpected end of file, expected a value @1:1"),
            ("{", "unexpected end of file, expected a member name in double quotes @1:2"),
            (#"{"a" 1}"#, "unexpected '1', expected ':' after a member name @1:6"),
            (#"{"a":1,}"#, "unexpected '}', expected a member name in double quotes @1:8"),
            ("[1 2]", "unexpected '2', expected ',' or ']' in an array @1:4"),
            ("[1,]", "unexpected ']', expected a value @1:4"),
            ("{\n  \"a\": 1\n  \"b\": 2}", "unexpected '\"', expected ',' or '}' in an object @3:3"),
            (#""abc"#, "unterminated string @1:5"),
            ("\"a\u{01}\"", "a control character (or a line break) inside a string must be escaped @1:3"),
            ("[\n\"a\nb\"]", "a control character (or a line break) inside a string must be escaped @2:3"),
            (#""\x""#, #"invalid escape sequence '\x' in a string @1:3"#),
            (#""\u12G4""#, #"\u must be followed by four hexadecimal digits @1:6"#),
            (#""\u+123""#, #"\u must be followed by four hexadecimal digits @1:4"#),
            (#""\u12"#, #"\u must be followed by four hexadecimal digits @1:6"#),
            (#""\ud800x""#, "a high surrogate escape must be followed by a low surrogate escape @1:8"),
            (#""\ud800\u0041""#, "invalid low surrogate escape @1:14"),
            (#""\udc00""#, "a low surrogate escape without a high surrogate @1:8"),
            ("tru", "unexpected 't', expected a value @1:1"),
            ("nul ", "unexpected 'n', expected a value @1:1"),
            ("{} x", "unexpected 'x' after the end of the JSON value @1:4"),
            ("{}\n\n{}", "unexpected '{' after the end of the JSON value @3:1"),
            ("@", "unexpected '@', expected a value @1:1"),
            ("01", "unexpected '1' after the end of the JSON value @1:2"),
            ("-", "a number needs digits @1:2"),
            ("1.", "a number needs digits after '.' @1:3"),
            ("1e+", "a number needs digits in its exponent @1:4"),
            ("+1", "unexpected '+', expected a value @1:1"),
        ] as [(String, String)]
    )
    func malformed(text: String, expected: String) {
        #expect(failure(text) == expected)
    }

    @Test("bytes that are not UTF-8 in a string are refused, after the string")
    func invalidUTF8() {
        #expect(failure([0x22, 0xFF, 0x22]) == "the string before this point is not valid UTF-8 @1:4")
        #expect(failure([0x22, 0xF0, 0x9F, 0x98, 0x22]) == "the string before this point is not valid UTF-8 @1:6")
        #expect(failure([0x22, 0x5C, 0x6E, 0xC3, 0x22]) == "the string before this point is not valid UTF-8 @1:6")
    }

    @Test("nesting deeper than 512 levels is refused instead of exhausting the stack")
    func depth() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(deep) == "the document is nested too deeply @1:513")
        let limit = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try parse(limit) }
        #expect(failure("[" + limit + "]") == "the document is nested too deeply @1:513")
    }

    @Test("a member named twice is kept, or refused naming the first one's line when duplicates are refused")
    func duplicateKeys() throws {
        let text = "{\"a\": 1,\n \"a\": 2}"
        let json = try parse(text)
        #expect(json == .object([("a", .number("1")), ("a", .number("2"))]))
        #expect(json["a"] == .number("1"))
        #expect(
            failure(text, rejectingDuplicateKeys: true)
                == #"member "a" appears twice in one object (first at line 1) @2:2"#
        )
    }

    @Test("a document records the line of each value and member name, in reading order")
    func lines() throws {
        let document = try JSONReader.parseDocument(Array("{\n\"a\":\n  [1,\n   2],\n\"b\": null}".utf8))
        #expect(document.value == .object([("a", .array([.number("1"), .number("2")])), ("b", .null)]))
        #expect(document.lines == [1, 2, 3, 3, 4, 5, 5])
    }

    @Test("typed access names the field of the wrong type, and reads integers from strings and numbers")
    func typedAccess() throws {
        let json = try parse(#"{"s": "x", "n": 42, "q": "-7", "b": true, "d": "YQ==", "l": [], "o": {}, "z": null}"#)
        #expect(try json["s"]?.string("s") == "x")
        #expect(try json["n"]?.int64("n") == 42)
        #expect(try json["q"]?.int("q") == -7)
        #expect(try json["b"]?.bool("b") == true)
        #expect(try json["d"]?.base64("d") == [0x61])
        #expect(try json["l"]?.array("l") == [])
        #expect(try json["o"]?.object("o") == .object([]))
        #expect(json["z"] == nil)
        #expect(json["absent"] == nil)
        #expect(JSONValue.string("x")["s"] == nil)
        let errors: [(() throws(JSONError) -> Void, String)] = [
            ({ () throws(JSONError) in _ = try json["n"]?.string("n") }, "field n is not a string"),
            ({ () throws(JSONError) in _ = try json["s"]?.int64("s") }, "field s is not a 64-bit integer"),
            ({ () throws(JSONError) in _ = try json["b"]?.int64("b") }, "field b is not an integer"),
            ({ () throws(JSONError) in _ = try json["s"]?.base64("s") }, "field s is not valid base64"),
            ({ () throws(JSONError) in _ = try json["s"]?.bool("s") }, "field s is not true or false"),
            ({ () throws(JSONError) in _ = try json["o"]?.array("o") }, "field o is not an array"),
            ({ () throws(JSONError) in _ = try json["l"]?.object("l") }, "field l is not an object"),
        ]
        for (access, message) in errors {
            let error = #expect(throws: JSONError.self) { try access() }
            #expect(error?.description == message)
            #expect(error?.line == nil)
        }
    }

    @Test("what the writer writes, the reader reads back: escapes, base64, integers, booleans, lists and maps")
    func writerRoundTrip() throws {
        let text = "p\"w\\d\n\r\t\u{01}\u{1F}é😀/"
        var writer = JSONWriter()
        writer.object { object in
            object.string("text", text)
            object.string("absent", nil)
            object.base64("bytes", [0, 255, 7])
            object.int64("revision", Int64.min)
            object.number("port", 8080)
            object.bool("flag", false)
            object.strings("tags", ["a", text])
            object.stringMap("meta", ["z": "1", "a": text])
            object.object("nested") { $0.bool("on", true) }
            object.array("items", [1, 2]) { item, value in item.number("n", value) }
        }
        let json = try JSONReader.parse(writer.bytes)
        #expect(
            json
                == .object([
                    ("text", .string(text)), ("bytes", .string("AP8H")), ("revision", .string("-9223372036854775808")),
                    ("port", .number("8080")), ("flag", .bool(false)), ("tags", .array([.string("a"), .string(text)])),
                    ("meta", .object([("a", .string(text)), ("z", .string("1"))])),
                    ("nested", .object([("on", .bool(true))])),
                    ("items", .array([.object([("n", .number("1"))]), .object([("n", .number("2"))])])),
                ])
        )
        #expect(try json["bytes"]?.base64("bytes") == [0, 255, 7])
        #expect(try json["revision"]?.int64("revision") == Int64.min)
    }

    // MARK: Reading without a tree

    /// An entry read by pulling: key, bytes, version and the names of the members skipped.
    private struct PulledEntry: Equatable {
        var key = ""
        var value: [UInt8]?
        var version: Int64 = 0
        var skipped: [String] = []
    }

    private func pullEntries(_ text: String) throws(JSONError) -> [PulledEntry] {
        try JSONReader.read(Array(text.utf8)) { reader throws(JSONError) in
            var entries: [PulledEntry] = []
            try reader.readArray("entries") { reader throws(JSONError) in
                var entry = PulledEntry()
                try reader.readObject("entry") { name, reader throws(JSONError) in
                    switch name {
                    case "Key": entry.key = try reader.readString("Key")
                    case "Value": entry.value = reader.readNull() ? nil : try reader.readBase64("Value")
                    case "Index": entry.version = try reader.readInt64("Index")
                    default:
                        entry.skipped.append(name)
                        try reader.skipValue()
                    }
                }
                entries.append(entry)
            }
            return entries
        }
    }

    /// The error pulling entries from `text` gives, as `message @line:column`.
    private func pullFailure(_ text: String) -> String? {
        do {
            _ = try self.pullEntries(text)
            return nil
        } catch {
            return "\(error.message) @\(error.line ?? 0):\(error.column ?? 0)"
        }
    }

    @Test("pulling reads arrays, objects, strings, integers (numbers or strings), base64 (with escapes too) and null")
    func pull() throws {
        let entries = try pullEntries(
            #"""
            [{"Key": "a\u00e9", "Value": "AP8H", "Index": 7, "Skip": {"x": [1, {"y": null}]}},
             {"Key": "b", "Value": "\/\/\/\/", "Index": "-9223372036854775808", "Flags": 0},
             {"Key": "c", "Value": null, "Index": 0}, {}]
            """#
        )
        #expect(
            entries == [
                PulledEntry(key: "aé", value: [0, 255, 7], version: 7, skipped: ["Skip"]),
                PulledEntry(key: "b", value: [255, 255, 255], version: Int64.min, skipped: ["Flags"]),
                PulledEntry(key: "c", value: nil, version: 0), PulledEntry(),
            ]
        )
        #expect(try pullEntries(" [ ] ") == [])
    }

    @Test("pulling names the field of the wrong kind with its position, and refuses what the tree reader refuses")
    func pullErrors() {
        #expect(pullFailure(#"{"Key": "a"}"#) == "field entries is not an array @1:1")
        #expect(pullFailure(#"[1]"#) == "field entry is not an object @1:2")
        #expect(pullFailure(#"[{"Key": 1}]"#) == "field Key is not a string @1:10")
        #expect(pullFailure(#"[{"Index": "x1"}]"#) == "field Index is not a 64-bit integer @1:12")
        #expect(pullFailure(#"[{"Index": 1.5}]"#) == "field Index is not a 64-bit integer @1:12")
        #expect(pullFailure(#"[{"Index": true}]"#) == "field Index is not an integer @1:12")
        #expect(pullFailure(#"[{"Value": "AP8"}]"#) == "field Value is not valid base64 @1:12")
        #expect(pullFailure(#"[{"Value": "\/\/"}]"#) == "field Value is not valid base64 @1:12")
        #expect(pullFailure(#"[{"Key": "a"}] x"#) == "unexpected 'x' after the end of the JSON value @1:16")
        #expect(pullFailure(#"[{"Key": "a"} {}]"#) == "unexpected '{', expected ',' or ']' in an array @1:15")
        #expect(pullFailure(#"[{"Skip": [1,]}]"#) == "unexpected ']', expected a value @1:14")
        #expect(pullFailure(#"[{"Key": "a"},]"#) == "unexpected ']', expected a value @1:15")
        #expect(pullFailure(#"[{"Key": }]"#) == "unexpected '}', expected a value @1:10")
        #expect(pullFailure("") == "unexpected end of file, expected a value @1:1")
        #expect(pullFailure("[") == "unexpected end of file, expected a value @1:2")
        let deep = "[{\"Skip\": " + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}]"
        #expect(pullFailure(deep) == "the document is nested too deeply @1:521")
    }
}
