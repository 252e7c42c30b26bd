// SPDX-License-Identifier: Apache-2.0

/// Why a ``HealthCheck`` found the instance unhealthy.
///
/// It never holds a secret: URLs appear without user information or query.
public struct HealthCheckError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    ///
    /// A struct rather than an enum so that new codes can be added without breaking exhaustive `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unexpectedStatus
            case connectFailed
            case timedOut
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The HTTP check got an answer whose status is not 2xx.
        public static let unexpectedStatus = Code(.unexpectedStatus)
        /// The connection could not be made: name not resolved, refused, unreachable, or broken.
        public static let connectFailed = Code(.connectFailed)
        /// The check took longer than ``RegistrationWatchdog/Configuration/checkTimeout``.
        public static let timedOut = Code(.timedOut)

        /// The code's name, such as `connectFailed`.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what happened.
    public var message: String
    /// What was checked: the URL (without user information, query or fragment) or the `host:port`; `nil` for a
    /// custom check.
    public var target: String?
    /// The HTTP status, for ``Code/unexpectedStatus``.
    public var status: Int?
    /// Where in Beacon's source code the error was thrown, as `#fileID:#line` (for example
    /// `BeaconRegister/HealthChecker.swift:42`), for bug reports.
    public var thrownAt: String { "\(self.fileID):\(self.sourceLine)" }
    private var fileID: String
    private var sourceLine: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: A sentence saying what happened.
    ///   - target: What was checked (a URL without secrets, or `host:port`).
    ///   - status: The HTTP status, if any.
    ///   - fileID: The source file that throws; leave the default.
    ///   - sourceLine: The source line that throws; leave the default.
    public init(
        _ code: Code,
        _ message: String,
        target: String? = nil,
        status: Int? = nil,
        fileID: String = #fileID,
        sourceLine: Int = #line
    ) {
        self.code = code
        self.message = message
        self.target = target
        self.status = status
        self.fileID = fileID
        self.sourceLine = sourceLine
    }

    /// `connectFailed: connecting to 127.0.0.1:8001 was refused`.
    public var description: String { "\(self.code): \(self.message)" }

    /// The description followed by the target and where the error was thrown.
    public var debugDescription: String {
        "HealthCheckError(code: \(self.code), \(self.description), target: \(self.target ?? "-"), thrownAt: \(self.thrownAt))"
    }
}
