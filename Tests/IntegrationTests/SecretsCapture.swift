// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Foundation
import InMemoryLogging
import Logging
import MetricsTestKit
import Testing

/// A secret a test plants (a password, a token): a name to report and the text that must never appear.
struct PlantedSecret: Sendable {
    /// What the secret is, for failure messages, such as `etcd password`. Never the secret itself.
    var name: String
    /// The secret.
    var value: String
}

/// One piece of captured output: where it came from and its text.
struct CapturedText: Sendable {
    /// Where the text came from, such as `log entry 3 (debug)` or `EtcdError String(reflecting:)`.
    var source: String
    /// The text.
    var text: String
}

/// Records an issue for each planted secret found in a captured text, naming the secret and the capture.
///
/// The issue never contains the secret's value: a failure report must not leak it either.
///
/// - Parameters:
///   - captures: Everything captured.
///   - secrets: The planted secrets; an empty value is skipped.
///   - sourceLocation: Where the issue is reported.
func expectNoSecrets(
    in captures: [CapturedText],
    _ secrets: [PlantedSecret],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for secret in secrets where !secret.value.isEmpty {
        for capture in captures where capture.text.contains(secret.value) {
            Issue.record("the \(secret.name) appeared in \(capture.source)", sourceLocation: sourceLocation)
        }
    }
}

/// What one test captures: a trace-level logger's entries, a metrics factory's labels and dimensions, and texts
/// recorded by hand (errors, descriptions, files, a tool's output).
final class SecretsCapture: Sendable {
    /// The entries of ``logger``.
    let logs = InMemoryLogHandler()
    /// A metrics factory to pass where an API takes one (or to bind with `withMetricsFactory`).
    let metrics = TestMetrics()
    private let texts = Lock<[CapturedText]>([])

    /// A logger at trace level that records into ``logs``.
    var logger: Logger {
        var logger = Logger(label: "beacon.secrets-test", factory: { [logs] _ in logs })
        logger.logLevel = .trace
        return logger
    }

    /// Records a text.
    func record(_ source: String, _ text: String) {
        self.texts.withLock { $0.append(CapturedText(source: source, text: text)) }
    }

    /// Records every way an error prints: `description`, `debugDescription`, `String(reflecting:)`,
    /// `localizedDescription` and `dump`.
    func record(error: any Error, from source: String) {
        self.record("\(source): description", String(describing: error))
        self.record("\(source): debugDescription", (error as any CustomDebugStringConvertible).debugDescription)
        self.record("\(source): String(reflecting:)", String(reflecting: error))
        self.record("\(source): localizedDescription", error.localizedDescription)
        var dumped = ""
        dump(error, to: &dumped)
        self.record("\(source): dump", dumped)
    }

    /// Records every way a value prints: `description`, `debugDescription`, `String(reflecting:)` and `dump`.
    func record(value: Any, from source: String) {
        self.record("\(source): description", String(describing: value))
        if let debuggable = value as? any CustomDebugStringConvertible {
            self.record("\(source): debugDescription", debuggable.debugDescription)
        }
        self.record("\(source): String(reflecting:)", String(reflecting: value))
        var dumped = ""
        dump(value, to: &dumped)
        self.record("\(source): dump", dumped)
    }

    /// Runs a throwing operation and records its error, if any.
    ///
    /// - Returns: Whether it threw.
    @discardableResult
    func recordError(from source: String, _ operation: () async throws -> Void) async -> Bool {
        do {
            try await operation()
            return false
        } catch {
            self.record(error: error, from: source)
            return true
        }
    }

    /// Records the name and contents of every file below a directory.
    ///
    /// - Returns: How many files there were.
    @discardableResult
    func recordFiles(under directory: String) -> Int {
        let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        var count = 0
        for file in files {
            let path = directory + "/" + file
            self.record("the name of file \(file)", file)
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            self.record("the contents of file \(file)", String(decoding: data, as: UTF8.self))
            count += 1
        }
        return count
    }

    /// Every capture: the texts recorded by hand, each log entry (message, metadata, error) and each metric's label and
    /// dimensions.
    var all: [CapturedText] {
        var all = self.texts.withLock { $0 }
        for (index, entry) in self.logs.entries.enumerated() {
            var text = "\(entry.message) \(entry.metadata)"
            if let error = entry.error { text += " \(error) \(String(reflecting: error))" }
            all.append(CapturedText(source: "log entry \(index) (\(entry.level), \"\(entry.message)\")", text: text))
        }
        let metrics: [(kind: String, label: String, dimensions: [(String, String)])] =
            self.metrics.counters.map { ("counter", $0.label, $0.dimensions) }
            + self.metrics.meters.map { ("meter", $0.label, $0.dimensions) }
            + self.metrics.recorders.map { ("recorder", $0.label, $0.dimensions) }
            + self.metrics.timers.map { ("timer", $0.label, $0.dimensions) }
        for metric in metrics {
            let dimensions = metric.dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            all.append(CapturedText(source: "\(metric.kind) \(metric.label)", text: "\(metric.label) \(dimensions)"))
        }
        return all
    }

    /// Checks every capture for the secrets (see ``expectNoSecrets(in:_:sourceLocation:)``), after checking that the
    /// logger did record something, so that a test whose logger was never used cannot pass.
    ///
    /// - Parameters:
    ///   - secrets: The planted secrets.
    ///   - expectingLogs: Whether the logger must have recorded something (`false` where nothing gets to log).
    ///   - sourceLocation: Where issues are reported.
    func expectNoSecrets(
        _ secrets: [PlantedSecret],
        expectingLogs: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        if expectingLogs {
            #expect(!self.logs.entries.isEmpty, "the logger recorded nothing", sourceLocation: sourceLocation)
        }
        IntegrationTests.expectNoSecrets(in: self.all, secrets, sourceLocation: sourceLocation)
    }
}
