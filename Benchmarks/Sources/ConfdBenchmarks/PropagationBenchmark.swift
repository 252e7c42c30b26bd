// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import Foundation
import Logging

/// Measures the time from a change to nginx serving it: the benchmark flips one key between two backends and asks
/// nginx, on a new connection each time, which backend answers, until the new one does.
struct PropagationBenchmark {
    /// How a change reaches nginx.
    enum Change {
        /// A put in etcd; beacon-confd (running beside, in watch mode) renders, checks and reloads.
        case throughConfd
        /// The floor: a shell command that writes the config, checks it and reloads nginx (`$BACKEND` is the new
        /// backend), timed the same way; no etcd, no watch, no template.
        case byHand(String)
    }

    let etcd: EtcdClient
    let key: String
    let nginxPort: Int
    let backends: [Int]

    init(etcdEndpoint: String, key: String, nginxPort: Int, backends: [Int]) async throws {
        var logger = Logger(label: "beacon.bench")
        logger.logLevel = .warning
        self.etcd = try EtcdClient(configuration: .init(endpoints: [etcdEndpoint]), logger: logger)
        self.key = key
        self.nginxPort = nginxPort
        self.backends = backends
    }

    /// Flips the key `changes` times and returns each change's time until nginx served it.
    func run(changes: Int, change: Change) async throws -> [Duration] {
        var latencies: [Duration] = []
        var current = try await self.answeringBackend()
        for _ in 0..<changes {
            let next = self.backends.first { $0 != current } ?? self.backends[0]
            let start = ContinuousClock.now
            switch change {
            case .throughConfd:
                _ = try await self.etcd.put(self.key, "127.0.0.1:\(next)")
            case .byHand(let command):
                try Self.shell(command, backend: next)
            }
            latencies.append(try await self.timeUntilOnly(next, since: start))
            current = next
            // Let nginx's old workers finish before the next change, as changes minutes apart would.
            try await Task.sleep(for: .milliseconds(50))
        }
        self.etcd.close()
        return latencies
    }

    /// Polls nginx until only `backend` answers, and returns when that began.
    ///
    /// During a reload nginx's old workers go on accepting connections for tens of milliseconds beside the new
    /// ones, so answers flip between the old and the new upstream. The change counts as served from the first answer
    /// after which no old one came, checked over the next ``stableAnswers`` answers and at least ``stableTime``.
    private func timeUntilOnly(_ backend: Int, since start: ContinuousClock.Instant) async throws -> Duration {
        var runStart: ContinuousClock.Instant?
        var runLength = 0
        while true {
            let answer = try await self.answeringBackend()
            let now = ContinuousClock.now
            if answer == backend {
                if runStart == nil { runStart = now }
                runLength += 1
                if let runStart, runLength >= Self.stableAnswers, now - runStart >= Self.stableTime {
                    return runStart - start
                }
            } else {
                runStart = nil
                runLength = 0
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// How many answers in a row, at least, must come from the new backend.
    static let stableAnswers = 20
    /// For how long, at least, only the new backend must answer.
    static let stableTime = Duration.milliseconds(150)

    /// The backend port that answers a request through nginx, or 0 when nginx answers itself.
    private func answeringBackend() async throws -> Int {
        let body = try await PlainHTTP.get(port: self.nginxPort)
        guard body.hasPrefix("backend ") else { return 0 }
        return Int(body.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    private static func shell(_ command: String, backend: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(["BACKEND": "\(backend)"]) { $1 }
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkFailure("`\(command)` failed") }
    }

    /// `label: p50 X ms, p99 Y ms, max Z ms over N changes`.
    static func summary(_ latencies: [Duration], label: String) -> String {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Duration {
            sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        func ms(_ duration: Duration) -> String {
            let milliseconds =
                Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
            return String(format: "%.1f", milliseconds)
        }
        return "\(label): p50 \(ms(percentile(0.5))) ms, p99 \(ms(percentile(0.99))) ms, "
            + "max \(ms(sorted.last ?? .zero)) ms over \(sorted.count) changes"
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking HTTP/1.0 GET of `/` on loopback, on a thread of its own: one new connection per request, so that
/// nginx's answer comes from the workers of its current configuration.
enum PlainHTTP {
    static func get(port: Int) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try self.blockingGet(port: port) })
            }.start()
        }
    }

    private static func blockingGet(port: Int) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchmarkFailure("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "" }  // nginx between two configurations: ask again
        let request = Array("GET / HTTP/1.0\r\nHost: bench\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let bodyStart = text.range(of: "\r\n\r\n") else { return "" }
        return String(text[bodyStart.upperBound...])
    }
}
