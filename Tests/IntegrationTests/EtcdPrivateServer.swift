// SPDX-License-Identifier: Apache-2.0

import BeaconEtcd
import Foundation
import Logging

/// A single-member etcd a test starts for itself on its own loopback ports with a temporary data directory, so that
/// it can stop it without disturbing the shared etcd of `scripts/servers`.
final class EtcdPrivateServer {
    /// The client URL, `http://127.0.0.1:<port>`.
    let endpoint: String
    private let dataDirectory: String
    private var pid: pid_t = 0

    /// Starts `etcd` on a free-looking pair of loopback ports and waits until it answers.
    static func start() async throws -> EtcdPrivateServer {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 31_000..<39_000)
            let server = try EtcdPrivateServer(clientPort: port, peerPort: port + 1)
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                // Most likely the port was taken: try another pair.
                server.stop()
                lastError = error
            }
        }
        throw lastError ?? SpawnFailure(status: -1)
    }

    private init(clientPort: Int, peerPort: Int) throws {
        self.endpoint = "http://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        self.dataDirectory = NSTemporaryDirectory() + "beacon-etcd-\(UUID().uuidString)"
        let name = "private"
        let arguments = [
            "etcd", "--name", name, "--data-dir", self.dataDirectory,
            "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "\(name)=\(peer)", "--initial-cluster-state", "new",
        ]
        // The ETCD_* variables of the environment would override the flags.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ETCD_") }
            .map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let spawned = posix_spawn(&self.pid, "/usr/bin/etcd", &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnFailure(status: spawned) }
    }

    deinit {
        self.stop()
    }

    /// Kills the server, reaps it and removes its data. Harmless when it is already stopped.
    func stop() {
        if self.pid > 0 {
            kill(self.pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
            self.pid = 0
        }
        try? FileManager.default.removeItem(atPath: self.dataDirectory)
    }

    private func waitUntilReady() async throws {
        var configuration = EtcdClient.Configuration(endpoints: [self.endpoint])
        configuration.connectTimeout = .milliseconds(200)
        configuration.requestTimeout = .seconds(1)
        let client = try EtcdClient(
            configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        defer { client.close() }
        for _ in 0..<300 {
            if (try? await client.list(prefix: "/ready")) != nil {
                return
            }
            guard self.isAlive else { throw SpawnFailure(status: -1) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SpawnFailure(status: -1)
    }

    /// Whether the process is still running (it exits at once when its ports are taken).
    private var isAlive: Bool {
        var status: Int32 = 0
        let result = waitpid(self.pid, &status, WNOHANG)
        if result == self.pid {
            self.pid = 0
            return false
        }
        return true
    }

    struct SpawnFailure: Error {
        var status: Int32
    }
}
