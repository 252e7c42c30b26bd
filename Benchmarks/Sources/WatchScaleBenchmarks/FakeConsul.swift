// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A private instance of the repository's fake Consul agent, without a data directory, stopped by ``stop()``.
struct FakeConsul {
    let process: Process
    let endpoint: String

    /// Starts `Tests/ConsulFake/fake_consul.py` (relative to the working directory, the repository's root) on a free
    /// port and waits until it answers.
    static func start() throws -> FakeConsul {
        let port = Int(ProcessInfo.processInfo.environment["WATCH_SCALE_CONSUL_PORT"] ?? "") ?? 28_690
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["Tests/ConsulFake/fake_consul.py", "--agent", "127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let endpoint = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            if Self.answers(port: port) { return FakeConsul(process: process, endpoint: endpoint) }
            usleep(100_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the fake Consul agent did not start"])
    }

    /// Whether something accepts connections on the port.
    private static func answers(port: Int) -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Kills the agent: it keeps nothing, and on SIGTERM it waits for the blocking queries it still holds.
    func stop() {
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}
