// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Runs commands (`scripts/servers`, `iptables`) to inject and end faults.
///
/// Uses `posix_spawn` and `waitpid` on a thread of its own: Foundation's `Process` waits on Linux for every
/// descriptor it handed the child to close, and a server the script starts keeps them open; a thread keeps the
/// waiting off Swift's cooperative pool.
enum Command {
    /// A command that did not exit with status 0.
    struct Failure: Error, CustomStringConvertible {
        /// The command line.
        var arguments: [String]
        /// The raw status from `waitpid`, or the error of `posix_spawn`.
        var status: Int32
        /// A readable account of the failure.
        var description: String { "`\(self.arguments.joined(separator: " "))` failed (status \(self.status))" }
    }

    /// Runs `arguments` (the first is an absolute path, or a name looked up in `PATH`) and waits for it.
    ///
    /// - Parameter arguments: The command and its arguments.
    /// - Throws: ``Failure`` when it cannot be started or does not exit with status 0.
    static func run(_ arguments: [String]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try self.runBlocking(arguments)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Runs `arguments` as ``run(_:)`` does and returns what it printed on standard output.
    static func output(_ arguments: [String]) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try self.runBlocking(arguments, standardOutput: file)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    private static func runBlocking(_ arguments: [String], standardOutput: String? = nil) throws {
        let argv = arguments.map { strdup($0) } + [nil]
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
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(arguments: arguments, status: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS are macros: decode the status by hand.
        guard status & 0x7F == 0 && (status >> 8) & 0xFF == 0 else {
            throw Failure(arguments: arguments, status: status)
        }
    }
}
