// SPDX-License-Identifier: Apache-2.0

import Beacon
import ExampleSupport
import Foundation
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Closed-loop latency measurement (`beacon-load --workers N --target host:port`): each worker holds one keep-alive
/// connection and sends `GET /items/<random key>` as soon as the previous answer is in, for the warm-up and then the
/// measured window. Only requests sent in the measured window count.
///
/// It prints one line, `load: latency at=<t> target=<host:port> workers=<n> warmup=<s> duration=<s> count=<n>
/// errors=<n> throughput=<req/s> p50_us=<us> p99_us=<us> mean_us=<us>`, followed, with `--app-pid`, by
/// `cpu_ms=<ms> cpu_us_per_request=<us>`: the app's CPU time (user + system, from `/proc/<pid>/stat`) over the
/// measured window. A request is an error when it fails or its status is not 200.
struct ClosedLoop: Sendable {
    let target: Endpoint
    let workers: Int
    let warmup: Duration
    let duration: Duration
    let keys: Int
    let appPID: Int?
    let probe: HTTPProbe

    /// What one worker saw in the measured window.
    private struct Samples: Sendable {
        /// Latencies of the answered requests, in nanoseconds.
        var latencies: [Int64] = []
        var errors = 0
        var firstError: String?

        mutating func failed(_ error: String) {
            errors += 1
            if firstError == nil { firstError = error }
        }
    }

    /// Runs the load and prints its line.
    ///
    /// - Returns: The number of errors in the measured window.
    func run(report: LoadReport) async -> Int {
        let start = ContinuousClock.now
        let measureFrom = start + warmup
        let end = measureFrom + duration

        async let cpu: Int64? = appCPUTicks(from: measureFrom, to: end)
        let samples = await withTaskGroup(of: Samples.self) { group in
            for _ in 0..<workers {
                group.addTask { await worker(measureFrom: measureFrom, end: end) }
            }
            var all = Samples()
            for await samples in group {
                all.latencies += samples.latencies
                all.errors += samples.errors
                all.firstError = all.firstError ?? samples.firstError
            }
            return all
        }
        let cpuTicks = await cpu

        let sorted = samples.latencies.sorted()
        let seconds = Self.seconds(duration)
        var fields = [
            "target=\(target)",
            "workers=\(workers)",
            "warmup=\(Self.decimal(Self.seconds(warmup), places: 1))",
            "duration=\(Self.decimal(seconds, places: 1))",
            "count=\(sorted.count)",
            "errors=\(samples.errors)",
            "throughput=\(Self.decimal(Double(sorted.count) / seconds, places: 1))",
            "p50_us=\(Self.decimal(Self.percentile(sorted, 0.50), places: 1))",
            "p99_us=\(Self.decimal(Self.percentile(sorted, 0.99), places: 1))",
            "mean_us=\(Self.decimal(sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000, places: 1))",
        ]
        if let cpuTicks {
            let cpuMicroseconds = Double(cpuTicks) * 1_000_000 / Double(sysconf(Int32(_SC_CLK_TCK)))
            fields.append("cpu_ms=\(Self.decimal(cpuMicroseconds / 1000, places: 0))")
            let perRequest = sorted.isEmpty ? 0 : cpuMicroseconds / Double(sorted.count)
            fields.append("cpu_us_per_request=\(Self.decimal(perRequest, places: 1))")
        }
        if let first = samples.firstError {
            fields.append("first_error=\"\(first.split(separator: "\"").joined(separator: "'"))\"")
        }
        report.line("latency", fields.joined(separator: " "))
        return samples.errors
    }

    /// One worker: a keep-alive connection, requests one after another; a failed connection is opened again.
    private func worker(measureFrom: ContinuousClock.Instant, end: ContinuousClock.Instant) async -> Samples {
        var samples = Samples()
        samples.latencies.reserveCapacity(16_384)
        while ContinuousClock.now < end {
            do {
                try await probe.withConnection(host: target.host, port: target.port) { connection in
                    while true {
                        let sent = ContinuousClock.now
                        guard sent < end else { return }
                        let answer = try await connection.send(method: .GET, path: "/items/\(Int.random(in: 1...keys))")
                        let latency = ContinuousClock.now - sent
                        guard sent >= measureFrom else { continue }
                        if answer.status == 200 {
                            samples.latencies.append(Self.nanoseconds(latency))
                        } else {
                            samples.failed(
                                "HTTP \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))"
                            )
                        }
                    }
                }
            } catch {
                if ContinuousClock.now >= measureFrom && ContinuousClock.now < end {
                    samples.failed("\(error)")
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        return samples
    }

    /// The app's CPU time (user + system, in clock ticks) between two moments, or `nil` without `--app-pid` or when
    /// `/proc/<pid>/stat` cannot be read.
    private func appCPUTicks(from: ContinuousClock.Instant, to: ContinuousClock.Instant) async -> Int64? {
        guard let appPID else { return nil }
        try? await Task.sleep(until: from, clock: .continuous)
        guard let before = Self.cpuTicks(pid: appPID) else { return nil }
        try? await Task.sleep(until: to, clock: .continuous)
        guard let after = Self.cpuTicks(pid: appPID) else { return nil }
        return after - before
    }

    /// utime + stime of a process, from `/proc/<pid>/stat` (fields 14 and 15), in clock ticks.
    static func cpuTicks(pid: Int) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": field 3 (state) is at index 0, so utime (14) is at 11 and stime (15) at 12.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        return user + system
    }

    /// The nearest-rank percentile of sorted nanoseconds, in microseconds.
    static func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1000
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private static func decimal(_ value: Double, places: Int) -> String {
        String(format: "%.\(places)f", value)
    }
}
