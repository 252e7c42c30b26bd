// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// The servers `scripts/servers` starts, found through the environment variables it prints.
///
/// Integration suites are enabled when `BEACON_SERVERS=1` (servers started by hand with
/// `eval "$(scripts/servers env)"`) or `BEACON_REQUIRE_SERVERS=1` (set by `scripts/test`). With the latter, a
/// missing variable fails the test instead of skipping it, so CI cannot pass without the servers.
enum TestServers {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether integration tests should run.
    static let available = environment["BEACON_REQUIRE_SERVERS"] == "1" || environment["BEACON_SERVERS"] == "1"

    /// How much longer than written the timing-sensitive tests let things take: `BEACON_TEST_TIME_SCALE` (1 when unset),
    /// which `scripts/sanitize` sets to 4, since sanitized code runs several times slower. Lease TTLs, session
    /// timeouts and connect timeouts that a stalled process could outlive are multiplied by it.
    static let timeScale: Double = max(1, Double(environment["BEACON_TEST_TIME_SCALE"] ?? "") ?? 1)

    /// A duration stretched by ``timeScale``.
    static func scaled(_ duration: Duration) -> Duration {
        duration * timeScale
    }

    /// The value of a variable that `scripts/servers env` exports.
    static func value(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw MissingServer(variable: name)
        }
        return value
    }

    /// Runs `scripts/servers` with arguments (to stop, start, freeze or thaw one instance) on a thread of its own, and
    /// waits for it to finish without holding a thread of the cooperative pool: such a command takes seconds, and the
    /// pool has only as many threads as the machine has cores, which the other tests running meanwhile need.
    static func runInBackground(_ arguments: String...) async throws {
        try await onThreadOfItsOwn { try run(arguments: arguments) }
    }

    /// Runs `scripts/servers` on a thread of its own and returns what it printed on standard output, trimmed.
    static func output(_ arguments: String...) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("servers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await onThreadOfItsOwn { try run(arguments: arguments, standardOutput: file) }
        return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs blocking work on a new thread and waits for it without holding a thread of the cooperative pool.
    private static func onThreadOfItsOwn(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    try body()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    /// Runs `scripts/servers` and waits for it, blocking the calling thread.
    ///
    /// Uses `posix_spawn` and `waitpid` rather than Foundation's `Process`, which on Linux waits for every
    /// descriptor it handed the child to close, and a server the script starts keeps them open.
    private static func run(arguments: [String], standardOutput: String? = nil) throws {
        let script = try value("BEACON_SERVERS_SCRIPT")
        let argv = ([script] + arguments).map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardOutput {
            posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, script, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ScriptFailure(arguments: arguments, status: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS are macros: decode the status by hand.
        let exited = status & 0x7F == 0
        let code = (status >> 8) & 0xFF
        guard exited && code == 0 else { throw ScriptFailure(arguments: arguments, status: status) }
    }

    struct ScriptFailure: Error {
        var arguments: [String]
        var status: Int32
    }

    /// A key prefix no other test uses.
    static func uniquePrefix(_ name: String) -> String {
        "/beacon-tests/\(name)/\(UUID().uuidString)/"
    }

    struct MissingServer: Error, CustomStringConvertible {
        var variable: String
        var description: String {
            "\(self.variable) is not set: start the test servers with `scripts/servers start` and "
                + "`eval \"$(scripts/servers env)\"`, or run `scripts/test`"
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs a suite only when the test servers are up (see ``TestServers``).
    static var requiresServers: Self {
        .enabled(if: TestServers.available, "needs the servers of scripts/servers (run scripts/test)")
    }
}
