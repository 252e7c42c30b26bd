// SPDX-License-Identifier: Apache-2.0

/// A complete HTTP response, as ``HTTPClient/execute(_:)`` returns it.
package struct HTTPResponse: Sendable {
    /// The status code, such as 200.
    package var status: Int

    /// The header fields of the final response, in the order received.
    package var headers: [(name: String, value: String)] {
        get { self.headerBlock.fields }
        set { self.headerBlock = HTTPHeaderBlock(newValue) }
    }

    /// The header lines as received, parsed on demand by ``headers``.
    var headerBlock: HTTPHeaderBlock

    /// The whole body.
    package var body: [UInt8]

    /// Whether the request went over a connection that an earlier request had opened (libcurl's
    /// `CURLINFO_NUM_CONNECTS` was 0).
    package var reusedConnection: Bool

    /// The local TCP port of the connection used, or 0 when unknown.
    package var localPort: Int

    /// Creates a response, for example as a test double.
    ///
    /// - Parameters:
    ///   - status: The status code.
    ///   - headers: The header fields.
    ///   - body: The body.
    ///   - reusedConnection: Whether the connection was reused.
    ///   - localPort: The local TCP port, or 0.
    package init(
        status: Int,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        reusedConnection: Bool = false,
        localPort: Int = 0
    ) {
        self.status = status
        self.headerBlock = HTTPHeaderBlock(headers)
        self.body = body
        self.reusedConnection = reusedConnection
        self.localPort = localPort
    }

    /// Creates a response from the header lines as received.
    init(status: Int, headerBlock: HTTPHeaderBlock, body: [UInt8], reusedConnection: Bool, localPort: Int) {
        self.status = status
        self.headerBlock = headerBlock
        self.body = body
        self.reusedConnection = reusedConnection
        self.localPort = localPort
    }

    /// The value of the first header field with this name, compared without regard to case.
    ///
    /// - Parameter name: A header name, such as `"Content-Type"`.
    /// - Returns: The field's value, or `nil` when the response has no such field.
    package func header(_ name: String) -> String? {
        self.headerBlock.value(named: name)
    }
}

/// Case-insensitive comparison of header names (ASCII).
enum HTTPHeaderName {
    /// Whether two header names are equal, ignoring ASCII case.
    ///
    /// - Parameters:
    ///   - lhs: A header name.
    ///   - rhs: Another header name.
    /// - Returns: `true` when they differ only in ASCII case.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count
            && zip(lhs.utf8, rhs.utf8).allSatisfy { lowercase($0) == lowercase($1) }
    }

    /// An ASCII byte in lower case.
    private static func lowercase(_ byte: UInt8) -> UInt8 {
        (65...90).contains(byte) ? byte + 32 : byte
    }
}
