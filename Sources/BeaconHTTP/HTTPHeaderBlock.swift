// SPDX-License-Identifier: Apache-2.0

/// The header fields of a response as received: the lines kept as bytes, split into names and values only when
/// somebody asks.
///
/// Most answers are read for their status and body alone (etcd's are), so the I/O thread only copies each line
/// here instead of making two strings per field while the caller waits for the response.
struct HTTPHeaderBlock: Sendable {
    /// The field lines without their line breaks, each followed by a `\n`.
    private(set) var bytes: [UInt8] = []

    /// What a block reserves for its first line: enough for a typical response head.
    private static let initialCapacity = 512

    /// An empty block.
    init() {}

    /// A block holding these fields, in order.
    ///
    /// - Parameter fields: Names and values.
    init(_ fields: [(name: String, value: String)]) {
        for field in fields {
            self.bytes.append(contentsOf: field.name.utf8)
            self.bytes.append(contentsOf: ": ".utf8)
            self.bytes.append(contentsOf: field.value.utf8)
            self.bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// Adds a field line as received, without its line break.
    mutating func append(line: UnsafeRawBufferPointer) {
        if self.bytes.capacity == 0 {
            self.bytes.reserveCapacity(Self.initialCapacity)  // one allocation for a typical head, not five
        }
        self.bytes.append(contentsOf: line)
        self.bytes.append(UInt8(ascii: "\n"))
    }

    /// Forgets the fields (a new response head, after an interim `1xx` one, starts).
    mutating func removeAll() {
        self.bytes.removeAll(keepingCapacity: true)
    }

    /// The fields in order, with spaces and tabs around names and values removed; lines without a colon are
    /// skipped.
    var fields: [(name: String, value: String)] {
        self.lines.map { (String(decoding: $0.name, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)) }
    }

    /// The value of the first field with this name, compared without regard to ASCII case.
    ///
    /// Compares the names as bytes and makes a string of the matching value only (a client reads a few headers of
    /// every answer: making strings of every field for each lookup cost a Consul read several microseconds).
    ///
    /// - Parameter name: A header name, such as `"Content-Type"`.
    /// - Returns: The field's value, or `nil` when there is no such field.
    func value(named name: String) -> String? {
        let wanted = name.utf8
        for line in self.lines where line.name.count == wanted.count {
            if zip(line.name, wanted).allSatisfy({ Self.lowercased($0) == Self.lowercased($1) }) {
                return String(decoding: line.value, as: UTF8.self)
            }
        }
        return nil
    }

    /// The field lines as name and value bytes, spaces and tabs around them removed; lines without a colon are skipped.
    private var lines: [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] {
        self.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            return (Self.trimmingSpaces(line[line.startIndex..<colon]), Self.trimmingSpaces(line[(colon + 1)...]))
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func trimmingSpaces(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var result = bytes
        while let first = result.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            result = result.dropFirst()
        }
        while let last = result.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            result = result.dropLast()
        }
        return result
    }
}
