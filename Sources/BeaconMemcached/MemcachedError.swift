// SPDX-License-Identifier: Apache-2.0

public import Beacon

/// The error thrown by `BeaconMemcached`.
///
/// Every error carries a ``Code`` to switch on and a sentence saying what went wrong. When libmemcached
/// reported the failure, ``returnCode`` and ``returnCodeName`` hold its `memcached_return_t` and its name, and
/// ``endpoint`` names the server the key belongs to, so that a log line alone says which server failed and how:
///
/// ```
/// unavailable at 127.0.0.1:21212 for key "user:42": the server did not answer (libmemcached 3 CONNECTION FAILURE)
/// ```
public struct MemcachedError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure an error describes.
    ///
    /// A struct rather than an enum so that new codes can be added without breaking exhaustive `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration
            case invalidKey
            case unavailable
            case timeout
            case poolExhausted
            case closed
            case valueTooLarge
            case encoding
            case failed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The pool's configuration or server list cannot be used (no servers, a prefix that is too long, ...).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// memcached refuses the key, which was not sent: it is empty, it has more than 250 bytes with the
        /// ``MemcachedPool/Configuration/keyPrefix`` (memcached's limit), or, in the ASCII protocol, it contains a
        /// space or a control byte (0x00 to 0x20, 0x7F). The message says which: the length, or the byte refused
        /// and its position.
        ///
        /// ``MemcachedClient/server(forKey:)`` refuses what PHP's `Memcached::getServerByKey` refuses: an empty key
        /// or one of more than 250 bytes, the prefix not counted.
        public static let invalidKey = Code(.invalidKey)
        /// The server could not be reached, or it is marked dead after too many failures.
        public static let unavailable = Code(.unavailable)
        /// The server did not answer within the configured timeouts.
        public static let timeout = Code(.timeout)
        /// No connection became free within ``MemcachedPool/Configuration/acquireTimeout``.
        public static let poolExhausted = Code(.poolExhausted)
        /// The pool was closed, or a dynamic pool has no servers yet.
        public static let closed = Code(.closed)
        /// The value is larger than the server accepts.
        public static let valueTooLarge = Code(.valueTooLarge)
        /// A value could not be encoded or decoded with `Codable`.
        public static let encoding = Code(.encoding)
        /// Any other failure reported by libmemcached or the server.
        public static let failed = Code(.failed)

        /// The code's name, for example `unavailable`.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong.
    public var message: String
    /// The server involved: the one the key maps to, or the one that failed.
    public var endpoint: Endpoint?
    /// The key involved, if any.
    public var key: String?
    /// libmemcached's `memcached_return_t` as a number, when libmemcached reported the failure.
    public var returnCode: Int?
    /// libmemcached's name for ``returnCode`` (`memcached_strerror`), for example `CONNECTION FAILURE`.
    public var returnCodeName: String?
    /// The error that caused this one, if any (an `EncodingError`, for example).
    public var underlying: (any Error & Sendable)?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconMemcached/MemcachedPool.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A sentence saying what is wrong.
    ///   - endpoint: The server involved.
    ///   - key: The key involved.
    ///   - returnCode: libmemcached's return code.
    ///   - returnCodeName: libmemcached's name for the return code.
    ///   - underlying: The error that caused this one.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        endpoint: Endpoint? = nil,
        key: String? = nil,
        returnCode: Int? = nil,
        returnCodeName: String? = nil,
        underlying: (any Error & Sendable)? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.endpoint = endpoint
        self.key = key
        self.returnCode = returnCode
        self.returnCodeName = returnCodeName
        self.underlying = underlying
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// One line: the code, the server, the key, the message and libmemcached's return code.
    ///
    /// A key longer than 64 characters is shown by its first 64, followed by `…` and its length in bytes.
    public var description: String {
        var result = self.code.description
        if let endpoint = self.endpoint { result += " at \(endpoint.hostAndPort)" }
        if let key = self.key { result += " for key \(Self.quoted(key))" }
        result += ": " + self.message
        if let returnCode = self.returnCode {
            result += " (libmemcached \(returnCode) \(self.returnCodeName ?? "?"))"
        }
        if let underlying = self.underlying { result += " (\(underlying))" }
        return result
    }

    /// The description followed by the code and where the error was thrown.
    public var debugDescription: String {
        "MemcachedError(code: \(self.code), \(self.description), thrownAt: \(self.thrownAt))"
    }

    /// The longest key ``description`` shows in full, in characters (Unicode scalars).
    static let shownKeyLength = 64

    /// A key in quotes, with quotes, backslashes and control characters escaped, cut after
    /// ``shownKeyLength`` characters.
    static func quoted(_ text: String) -> String {
        var result = "\""
        var shown = 0
        for scalar in text.unicodeScalars {
            if shown == Self.shownKeyLength {
                return result + "…\" (\(text.utf8.count) bytes)"
            }
            shown += 1
            if scalar == "\"" || scalar == "\\" {
                result += "\\"
                result.unicodeScalars.append(scalar)
            } else if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
