// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import BeaconTesting
import Foundation
import LoopbackServer
import Synchronization
import Testing

/// The `beacon-register` executable, run as Documentation/Register.md runs it, against the etcd of `scripts/servers`
/// that has authentication enabled (the password comes from `BEACON_PASSWORD`, never the command line).
@Suite("beacon-register against etcd", .requiresServers, .timeLimit(.minutes(2)))
struct BeaconRegisterToolTests {
    @Test("keeps a plain key on a lease while the server answers, withdraws it on SIGTERM, and logs no password")
    func plainKeyUntilSIGTERM() async throws {
        let endpoint = try TestServers.value("BEACON_ETCD_AUTH_ENDPOINT")
        let user = try TestServers.value("BEACON_ETCD_AUTH_USER")
        let password = try TestServers.value("BEACON_ETCD_AUTH_PASSWORD")
        let observer = try EtcdClient(
            configuration: .init(endpoints: [endpoint], credentials: .init(username: user, password: password))
        )
        defer { observer.close() }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let key = "/beacon-register-tests/\(UUID().uuidString)/test/apache-8001"
        let value = "127.0.0.1:\(server.port)"

        let tool = try ToolProcess.start(
            [
                "-backend", "etcdv3", "-node", endpoint, "-username", user,
                "-key", key, "-value", value, "-check-http", server.url("/"),
                "-interval", "0.1", "-ttl", "60", "-failures", "2", "-log-level", "debug",
            ],
            environment: ["BEACON_PASSWORD": password]
        )
        defer { tool.cleanUp() }
        #expect(try await eventually { try await observer.get(key)?.string == value })
        let status = try await tool.terminate()
        #expect(status == 0)
        // Revoked on the way out, not left to expire (the TTL is a minute).
        #expect(try await observer.get(key) == nil)
        let output = try tool.output()
        #expect(output.contains("Instance is healthy; registered"))
        #expect(output.contains("Stopping; withdrew the registration"))
        #expect(!output.contains(password))
    }

    @Test("a backend that is not in this build is refused with a clear message")
    func unsupportedBackend() async throws {
        let tool = try ToolProcess.start([
            "-backend", "zookeeper", "-key", "/test/apache-8001", "-value", "127.0.0.1:8001",
        ])
        defer { tool.cleanUp() }
        let status = try await tool.wait()
        #expect(status != 0)
        #expect(try tool.output().contains("-backend zookeeper is not in this build yet"))
    }
}

/// A `beacon-register` process started by a test, with its standard output and error in a temporary file.
///
/// ``cleanUp()`` kills a process the test did not wait for (a test that failed half-way) and removes the file.
final class ToolProcess: Sendable {
    let pid: pid_t
    let outputPath: String
    private let reaped = Atomic<Bool>(false)

    init(pid: pid_t, outputPath: String) {
        self.pid = pid
        self.outputPath = outputPath
    }

    func cleanUp() {
        if !self.reaped.load(ordering: .acquiring) {
            kill(self.pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(atPath: self.outputPath)
    }

    /// The executable, built beside the test bundle by `swift build --build-tests`.
    static func executable() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let path = directory.appendingPathComponent("beacon-register").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingExecutable(path: path)
        }
        return path
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ToolProcess {
        let executable = try executable()
        let outputPath = NSTemporaryDirectory() + "beacon-register-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        var merged = ProcessInfo.processInfo.environment
        merged["BEACON_PASSWORD"] = nil
        merged.merge(environment) { $1 }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnFailure(status: result) }
        return ToolProcess(pid: pid, outputPath: outputPath)
    }

    /// Sends SIGTERM and waits for the exit.
    func terminate() async throws -> Int32 {
        kill(self.pid, SIGTERM)
        return try await self.wait()
    }

    /// Waits for the exit, on a thread of its own, and returns the exit status (or 128 + the signal).
    func wait() async throws -> Int32 {
        let pid = self.pid
        defer { self.reaped.store(true, ordering: .releasing) }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                // WIFEXITED and WEXITSTATUS are macros: decode the status by hand.
                let signal = status & 0x7F
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            }.start()
        }
    }

    /// What the process wrote so far.
    func output() throws -> String {
        try String(contentsOfFile: self.outputPath, encoding: .utf8)
    }

    struct MissingExecutable: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(self.path) is missing: build with `swift build --build-tests`" }
    }

    struct SpawnFailure: Error {
        var status: Int32
    }
}
