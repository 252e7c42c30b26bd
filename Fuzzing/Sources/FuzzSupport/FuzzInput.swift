// SPDX-License-Identifier: Apache-2.0

/// The bytes libFuzzer hands a target, in the shapes the parsers take.
public enum FuzzInput {
    /// Copies one input.
    ///
    /// - Parameters:
    ///   - data: The input's first byte, or `nil` for the empty input.
    ///   - size: The input's length.
    /// - Returns: The bytes.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    /// One input as text, decoded as UTF-8 with invalid sequences replaced, as `KeyValue.string` reads a
    /// discovered value.
    ///
    /// - Parameters:
    ///   - data: The input's first byte, or `nil` for the empty input.
    ///   - size: The input's length.
    /// - Returns: The text.
    public static func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
        String(decoding: Self.bytes(data, size), as: UTF8.self)
    }

    /// One input as text when it is valid UTF-8, as a file read with `String(contentsOfFile:encoding: .utf8)`
    /// arrives; `nil` otherwise (the reader would have thrown before any parser ran).
    ///
    /// - Parameters:
    ///   - data: The input's first byte, or `nil` for the empty input.
    ///   - size: The input's length.
    /// - Returns: The text, or `nil`.
    public static func validText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String? {
        String(validating: Self.bytes(data, size), as: UTF8.self)
    }
}
