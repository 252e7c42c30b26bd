// SPDX-License-Identifier: Apache-2.0

import Foundation

// A comparison in alternating rounds, C floor then Swift, of two sides that each time a number of requests: their
// latency percentiles, throughput and the process's CPU time per request, and the ratios round by round.

/// The process's CPU time (user + system) so far, in microseconds: all threads, those of the libraries included.
///
/// - Returns: The CPU time.
public func processCPUMicroseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

/// A duration in whole nanoseconds.
///
/// - Parameter duration: The duration.
/// - Returns: Its nanoseconds.
public func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

/// The value at `fraction` of sorted latencies (nanoseconds), in microseconds.
///
/// - Parameters:
///   - sorted: Latencies in nanoseconds, sorted.
///   - fraction: The percentile as a fraction, such as 0.99.
/// - Returns: The latency there, in microseconds.
public func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
    Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1_000
}

/// The median of some values; `nan` for none.
///
/// - Parameter values: The values.
/// - Returns: Their median.
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

/// A value with a fixed number of decimals.
///
/// - Parameters:
///   - value: The value.
///   - decimals: How many decimals.
/// - Returns: The text.
public func format(_ value: Double, _ decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f", value)
}

/// One round's figures.
public struct RoundFigures: Sendable {
    /// The median latency, in microseconds.
    public var p50: Double
    /// The 99th percentile of the latencies, in microseconds.
    public var p99: Double
    /// Requests per second.
    public var rate: Double
    /// The process's CPU time per request, in microseconds.
    public var cpuPerRequest: Double
}

/// One side of a comparison: its figures in each round, and all its latencies.
public struct Side: Sendable {
    /// What the side runs, as the report names it.
    public let name: String
    /// The figures of each round, in order.
    public var rounds: [RoundFigures] = []
    /// Every latency of every round, in nanoseconds.
    public var latencies: [Int64] = []

    /// Creates a side with no round yet.
    ///
    /// - Parameter name: What the side runs.
    public init(_ name: String) { self.name = name }

    /// Runs one round (which returns its latencies and its wall-clock time, in nanoseconds), and records its figures.
    ///
    /// - Parameter round: The round's work.
    /// - Throws: What `round` throws.
    public mutating func measure(_ round: () async throws -> (latencies: [Int64], elapsed: Int64)) async rethrows {
        let cpu = processCPUMicroseconds()
        let (latencies, elapsed) = try await round()
        let cpuSpent = processCPUMicroseconds() - cpu
        let sorted = latencies.sorted()
        self.rounds.append(
            RoundFigures(
                p50: percentile(sorted, 0.5),
                p99: percentile(sorted, 0.99),
                rate: Double(latencies.count) / (Double(elapsed) / 1e9),
                cpuPerRequest: cpuSpent / Double(latencies.count)
            )
        )
        self.latencies += latencies
    }

    /// The median of one figure over the rounds.
    ///
    /// - Parameter figure: Which figure.
    /// - Returns: Its median.
    public func median(_ figure: KeyPath<RoundFigures, Double>) -> Double {
        BenchmarkSupport.median(self.rounds.map { $0[keyPath: figure] })
    }
}

/// Prints each side's medians over the rounds, and the second side's ratios to the first (the floor, usually C),
/// round by round (each round of the second side against the round of the first run just before it), as their median
/// and their range.
///
/// - Parameters:
///   - title: What is compared.
///   - floor: The floor: the C side, or a Swift floor.
///   - subject: The side measured against it: ours.
///   - unit: What one measurement is, for the column titles (`request`, `change`).
public func report(_ title: String, _ floor: Side, _ subject: Side, unit: String = "request") {
    guard !floor.rounds.isEmpty || !subject.rounds.isEmpty else { return }
    print("\n\(title): medians over \(max(floor.rounds.count, subject.rounds.count)) alternating rounds")
    print("| | p50 | p99 | \(unit)s/s | CPU per \(unit) |")
    print("| --- | --- | --- | --- | --- |")
    for side in [floor, subject] where !side.rounds.isEmpty {
        print(
            "| \(side.name) | \(format(side.median(\.p50))) µs | \(format(side.median(\.p99))) µs "
                + "| \(format(side.median(\.rate), 0)) | \(format(side.median(\.cpuPerRequest))) µs |"
        )
    }
    guard !floor.rounds.isEmpty && !subject.rounds.isEmpty else { return }
    let pairs = Array(zip(floor.rounds, subject.rounds))
    func ratio(_ values: [Double]) -> String {
        "\(format(median(values), 2)) (\(format(values.min()!, 2))–\(format(values.max()!, 2)))"
    }
    print(
        "ratio of the second row to the first, median of the rounds' ratios (range): p50 \(ratio(pairs.map { $1.p50 / $0.p50 })), "
            + "p99 \(ratio(pairs.map { $1.p99 / $0.p99 })), "
            + "throughput \(ratio(pairs.map { $0.rate / $1.rate })) (the floor's \(unit)s/s over ours), "
            + "CPU per \(unit) \(ratio(pairs.map { $1.cpuPerRequest / $0.cpuPerRequest }))"
    )
}

/// Times `count` calls awaited one after the other by one task, off the main actor as a server's request handlers run
/// (top-level code is main-actor isolated, and on Linux every resumption onto the main queue would add a thread hop
/// that no server pays).
///
/// - Parameters:
///   - count: How many calls.
///   - call: One call (a client's `get`, say).
/// - Returns: Each call's latency and the whole run's wall-clock time, in nanoseconds.
/// - Throws: What `call` throws.
@concurrent
public func timeSequentialCalls(
    _ count: Int,
    _ call: @Sendable () async throws -> Void
) async throws -> (latencies: [Int64], elapsed: Int64) {
    var latencies: [Int64] = []
    latencies.reserveCapacity(count)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<count {
        let before = clock.now
        try await call()
        latencies.append(nanoseconds(clock.now - before))
    }
    return (latencies, nanoseconds(clock.now - start))
}

/// Times `tasks` concurrent tasks, each making `count` calls one after the other.
///
/// - Parameters:
///   - tasks: How many tasks.
///   - count: How many calls each task makes.
///   - executorPreference: The executor the tasks prefer, or `nil` (the default) for the global executor.
///   - call: One call.
/// - Returns: Every call's latency and the whole run's wall-clock time, in nanoseconds.
/// - Throws: What `call` throws.
@concurrent
public func timeConcurrentCalls(
    tasks: Int,
    count: Int,
    executorPreference: (any TaskExecutor)? = nil,
    _ call: @escaping @Sendable () async throws -> Void
) async throws -> (latencies: [Int64], elapsed: Int64) {
    let start = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
        for _ in 0..<tasks {
            group.addTask(executorPreference: executorPreference) {
                try await timeSequentialCalls(count, call).latencies
            }
        }
        var all: [Int64] = []
        for try await latencies in group { all += latencies }
        return all
    }
    return (latencies, nanoseconds(ContinuousClock.now - start))
}
