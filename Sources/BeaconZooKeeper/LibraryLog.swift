// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import CBeaconZooKeeper
import Logging

/// Sends libzookeeper's own log (stderr by default) to swift-log.
///
/// libzookeeper's log callback receives only the formatted line, not the handle it is about, and its level is
/// process-wide. So every open client registers its logger here, lines go to the logger of the oldest client still
/// open, and the library's level follows the most verbose of those loggers. The level in each line
/// (`ZOO_ERROR`, `ZOO_WARN`, `ZOO_INFO`, `ZOO_DEBUG`) becomes the swift-log level (error, warning, info, debug), and
/// the configured digest password is masked should it ever appear.
enum LibraryLog {
    private struct Sink {
        var tag: UInt
        var logger: Logger
        var secrets: [String]
    }

    private static let sinks = Lock<[Sink]>([])

    /// Adds a client's logger.
    static func add(tag: UInt, logger: Logger, secrets: [String]) {
        let level = self.sinks.withLock { sinks in
            sinks.append(Sink(tag: tag, logger: logger, secrets: secrets.filter { !$0.isEmpty }))
            return sinks.map(\.logger.logLevel).min() ?? .warning
        }
        zoo_set_debug_level(self.libraryLevel(for: level))
    }

    /// Removes a closed client's logger.
    static func remove(tag: UInt) {
        self.sinks.withLock { sinks in sinks.removeAll { $0.tag == tag } }
    }

    /// The callback given to `zookeeper_init2`; called on libzookeeper's threads.
    static let callback: log_callback_fn = { line in
        guard let line else { return }
        LibraryLog.log(String(cString: line))
    }

    private static func log(_ line: String) {
        guard let sink = self.sinks.withLock({ $0.first }) else { return }
        var (level, function, message) = self.parse(line)
        for secret in sink.secrets { message = message.replacing(secret, with: "********") }
        sink.logger.log(level: level, "\(message)", metadata: ["zookeeper.function": "\(function)"])
    }

    /// Splits `time:pid(0xtid):ZOO_WARN@function@line: message` into its level, function and message.
    static func parse(_ line: String) -> (level: Logger.Level, function: String, message: String) {
        let levels: [(String, Logger.Level)] = [
            ("ZOO_ERROR@", .error), ("ZOO_WARN@", .warning), ("ZOO_INFO@", .info), ("ZOO_DEBUG@", .debug),
        ]
        for (marker, level) in levels {
            guard let start = line.firstRange(of: marker) else { continue }
            let rest = line[start.upperBound...]
            guard let functionEnd = rest.firstIndex(of: "@"),
                let messageStart = rest.firstRange(of: ": ")
            else { return (level, "", String(rest)) }
            let message = rest[messageStart.upperBound...].trimmingSuffix { $0 == "\n" }
            return (level, String(rest[..<functionEnd]), String(message))
        }
        return (.info, "", line)
    }

    private static func libraryLevel(for level: Logger.Level) -> ZooLogLevel {
        switch level {
        case .trace, .debug: ZOO_LOG_LEVEL_DEBUG
        case .info, .notice: ZOO_LOG_LEVEL_INFO
        case .warning: ZOO_LOG_LEVEL_WARN
        case .error, .critical: ZOO_LOG_LEVEL_ERROR
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
        var end = self.endIndex
        while end > self.startIndex, predicate(self[self.index(before: end)]) { end = self.index(before: end) }
        return self[..<end]
    }
}
