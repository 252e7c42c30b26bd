// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconHTTP
import Logging

/// Runs a ``HealthCheck`` once per call, bounded by the check timeout; owns the HTTP client of an HTTP check.
///
/// Made by ``RegistrationWatchdog/run()`` and closed when it ends, so that the HTTP client's own I/O thread lives
/// exactly as long as the watchdog runs (or, on a shared I/O thread, the client leaves it).
final class HealthChecker: Sendable {
    private let check: HealthCheck
    private let timeout: Duration
    private let http: HTTPClient?

    init(check: HealthCheck, timeout: Duration, ioThread: HTTPIOThread? = nil, logger: Logger) {
        self.check = check
        self.timeout = timeout
        if case .http = check.kind {
            var configuration = HTTPClient.Configuration()
            configuration.connectTimeout = timeout
            configuration.requestTimeout = timeout
            configuration.maxConnectionsPerHost = 1
            configuration.maxIdleConnections = 1
            configuration.ioThread = ioThread
            self.http = HTTPClient(configuration: configuration, logger: logger)
        } else {
            self.http = nil
        }
    }

    /// Stops the HTTP client's thread, if there is one.
    func close() {
        self.http?.close()
    }

    /// Checks once.
    ///
    /// - Returns: Success when the instance is healthy; else why not (`CancellationError` when the task is cancelled).
    func run() async -> Result<Void, any Error> {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.perform() }
                group.addTask {
                    try await Task.sleep(for: self.timeout)
                    throw HealthCheckError(.timedOut, "the check took longer than \(self.timeout)")
                }
                try await group.next()
                group.cancelAll()
            }
            return .success(())
        } catch var error as HealthCheckError {
            if error.target == nil { error.target = self.check.target }
            return .failure(error)
        } catch {
            return .failure(error)
        }
    }

    private func perform() async throws {
        switch self.check.kind {
        case .http(let url):
            try await self.get(url)
        case .tcp(let endpoint):
            try await TCPProbe.connect(to: endpoint, timeout: self.timeout)
        case .custom(_, let body):
            try await body()
        }
    }

    private func get(_ url: String) async throws {
        guard let http = self.http else { return }
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(url: url, timeout: self.timeout))
        } catch let error as HTTPError {
            throw HealthCheckError(error.code == .timedOut ? .timedOut : .connectFailed, "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw HealthCheckError(
                .unexpectedStatus,
                "GET \(HealthCheck.redacted(url)) answered \(response.status)",
                status: response.status
            )
        }
    }
}
