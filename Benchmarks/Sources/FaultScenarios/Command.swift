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

    private static func runBlocking(_ arguments: [String]) throws {
        let argv = arguments.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], nil, nil, argv, environ)
        guard spawned == 0 else { throw Failure(arguments: arguments, status: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED and WEXITSTATUS are macros: decode the status by hand.
        guard status & 0x7F == 0 && (status >> 8) & 0xFF == 0 else {
            throw Failure(arguments: arguments, status: status)
        }
    }
}
