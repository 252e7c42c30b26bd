// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import Testing

/// One of the package's command-line tools (`beacon-confd`, `beacon-register`), run as a child process the way an
/// operator runs it; its output goes to files so that nothing it leaves behind can keep a pipe open.
final class ToolProcess: Sendable {
    /// The tool's process id.
    let pid: pid_t
    private let outputPath: String
    private let errorPath: String
    /// Set once ``waitForExit()`` has reaped the process, so that its pid is never signalled again.
    private let reaped = Atomic<Bool>(false)

    /// The directory `swift build` put the tools in: the one holding the test bundle.
    static var productsDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    }

    /// Starts a tool.
    ///
    /// - Parameters:
    ///   - tool: The product's name, such as `beacon-confd`.
    ///   - arguments: Its arguments.
    ///   - environment: Variables added to the test's own environment (from which `BEACON_PASSWORD` and
    ///     `BEACON_CONSUL_TOKEN` are removed, so that only a test that means to give a secret does).
    /// - Throws: ``ToolMissing`` when the product is not built, or the spawn's failure.
    init(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let path = Self.productsDirectory + "/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ToolMissing(path: path)
        }
        let stem = NSTemporaryDirectory() + "beacon-tool-\(UUID().uuidString)"
        self.outputPath = stem + ".out"
        self.errorPath = stem + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, self.outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, self.errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var variables = ProcessInfo.processInfo.environment
        variables["BEACON_PASSWORD"] = nil
        variables["BEACON_CONSUL_TOKEN"] = nil
        for (name, value) in environment { variables[name] = value }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestServers.ScriptFailure(arguments: [path] + arguments, status: spawned) }
        self.pid = pid
    }

    deinit {
        if !self.reaped.load(ordering: .acquiring) {
            kill(self.pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(atPath: self.outputPath)
        try? FileManager.default.removeItem(atPath: self.errorPath)
    }

    /// Runs a tool to its end.
    ///
    /// - Returns: The exit status, standard output and standard error.
    static func run(
        _ tool: String,
        _ arguments: [String],
        environment: [String: String] = [:]
    ) async throws -> (status: Int32, output: String, error: String) {
        let process = try ToolProcess(tool, arguments, environment: environment)
        let status = await process.waitForExit()
        return (status, process.output, process.errorOutput)
    }

    /// What the tool wrote to standard output so far.
    var output: String { (try? String(contentsOfFile: self.outputPath, encoding: .utf8)) ?? "" }

    /// What the tool wrote to standard error so far.
    var errorOutput: String { (try? String(contentsOfFile: self.errorPath, encoding: .utf8)) ?? "" }

    /// Sends a signal.
    func signal(_ signal: Int32) {
        guard !self.reaped.load(ordering: .acquiring) else { return }
        kill(self.pid, signal)
    }

    /// Waits for the tool to exit, on a thread of its own so that no task of the cooperative pool blocks.
    ///
    /// - Returns: The exit status, or 128 + the signal's number when a signal ended it.
    func waitForExit() async -> Int32 {
        let pid = self.pid
        defer { self.reaped.store(true, ordering: .releasing) }
        return await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                // WIFEXITED, WEXITSTATUS and WTERMSIG are macros: decode the status by hand.
                let signal = status & 0x7F
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            }.start()
        }
    }

    struct ToolMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(self.path) is not built: run `swift build` (scripts/test builds every product)" }
    }
}
