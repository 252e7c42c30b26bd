// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconMemcached
import Foundation
import Logging

/// A memcached instance a test starts for itself on its own loopback port, so that it can stop it without
/// disturbing the shared instances of `scripts/servers`.
final class MemcachedPrivateServer {
    let endpoint: Endpoint
    private var pid: pid_t = 0

    /// Starts `memcached -l 127.0.0.1 -p <port> -U 0` and waits until it answers.
    init(port: Int) throws {
        self.endpoint = Endpoint(host: "127.0.0.1", port: port)
        var arguments = ["memcached", "-l", "127.0.0.1", "-p", "\(port)", "-U", "0", "-m", "16", "-t", "1"]
        if getuid() == 0 { arguments += ["-u", "memcache"] }
        let argv = arguments.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        let path =
            FileManager.default.isExecutableFile(atPath: "/usr/bin/memcached")
            ? "/usr/bin/memcached" : "/usr/local/bin/memcached"
        let spawned = posix_spawn(&self.pid, path, nil, nil, argv, environ)
        guard spawned == 0 else { throw SpawnFailure(status: spawned) }
        try self.waitUntilReady()
    }

    deinit {
        self.stop()
    }

    /// Kills the server and reaps it. Harmless when it is already stopped.
    func stop() {
        guard self.pid > 0 else { return }
        kill(self.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
        self.pid = 0
    }

    /// Freezes the server (SIGSTOP): its kernel still accepts connections, but it answers nothing.
    ///
    /// Returns once every thread of the server has stopped: `kill` only queues the signal, and a server thread
    /// already running on another core could otherwise still answer a request sent just after this call.
    func freeze() {
        guard self.pid > 0 else { return }
        kill(self.pid, SIGSTOP)
        var status: Int32 = 0
        while waitpid(self.pid, &status, WUNTRACED) < 0 && errno == EINTR {}
    }

    /// Lets a frozen server run again (SIGCONT).
    func thaw() {
        if self.pid > 0 { kill(self.pid, SIGCONT) }
    }

    private func waitUntilReady() throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        for _ in 0..<200 {
            // A fresh pool per attempt: a pool remembers a refused connection for its retry timeout.
            let pool = try MemcachedPool(
                servers: [self.endpoint],
                configuration: MemcachedPool.Configuration(connectTimeout: .milliseconds(200)),
                logger: logger
            )
            defer { pool.close() }
            if (try? pool.withBlockingConnection({ try $0.set("ready", value: [1]) })) != nil { return }
            usleep(10_000)
        }
        self.stop()
        throw SpawnFailure(status: -1)
    }

    struct SpawnFailure: Error {
        var status: Int32
    }
}
