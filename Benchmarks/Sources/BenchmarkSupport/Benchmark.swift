// SPDX-License-Identifier: Apache-2.0

/// Keeps a value alive and opaque to the optimiser, so measured work is not removed.
///
/// - Parameter value: The value a measured closure produced.
@inline(never)
@_optimize(none)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// A timing: nanoseconds per operation.
public struct Measurement: Sendable, CustomStringConvertible {
    /// What was measured.
    public let name: String
    /// The mean time of one operation, in nanoseconds (best round).
    public let nanosecondsPerOperation: Double

    /// The name and the time, such as `parse: 812.4 ns/op`.
    public var description: String {
        "\(name): \(formatNanoseconds(nanosecondsPerOperation)) ns/op"
    }
}

/// A subject measured beside a baseline in the same run.
public struct Comparison: Sendable, CustomStringConvertible {
    /// The subject's timing.
    public let subject: Measurement
    /// The baseline's timing.
    public let baseline: Measurement

    /// How many times slower the subject is than the baseline.
    public var ratio: Double {
        baseline.nanosecondsPerOperation > 0 ? subject.nanosecondsPerOperation / baseline.nanosecondsPerOperation : 0
    }

    /// `name: X ns/op, baseline Y ns/op, ratio Z`.
    public var description: String {
        "\(subject.name): \(formatNanoseconds(subject.nanosecondsPerOperation)) ns/op, baseline "
            + "\(formatNanoseconds(baseline.nanosecondsPerOperation)) ns/op, ratio \(formatRatio(ratio))"
    }
}

/// Measures closures: a warm-up, then several timed rounds of a fixed number of iterations; the best round wins,
/// which filters out noise from other processes on a shared machine.
public struct Benchmark: Sendable {
    /// Iterations per timed round.
    public var iterations: Int
    /// Untimed iterations before the first round.
    public var warmUpIterations: Int
    /// Timed rounds; the fastest is reported.
    public var rounds: Int

    /// Creates a benchmark configuration.
    ///
    /// - Parameters:
    ///   - iterations: Iterations per timed round (default 200,000).
    ///   - warmUpIterations: Untimed iterations first (default 10,000).
    ///   - rounds: Timed rounds (default 5).
    public init(iterations: Int = 200_000, warmUpIterations: Int = 10_000, rounds: Int = 5) {
        self.iterations = max(1, iterations)
        self.warmUpIterations = max(0, warmUpIterations)
        self.rounds = max(1, rounds)
    }

    /// Measures one closure.
    ///
    /// - Parameters:
    ///   - name: What is measured.
    ///   - body: One operation; its result is passed to ``blackHole(_:)``.
    /// - Returns: The best round's time per operation.
    /// - Throws: What `body` throws.
    public func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> Measurement {
        for _ in 0..<warmUpIterations {
            blackHole(try body())
        }
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = clock.now
            for _ in 0..<iterations {
                blackHole(try body())
            }
            let elapsed = clock.now - start
            let nanoseconds =
                Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best = min(best, nanoseconds / Double(iterations))
        }
        return Measurement(name: name, nanosecondsPerOperation: best)
    }

    /// Measures a subject and a baseline in the same run, alternating rounds so both see the same conditions.
    ///
    /// - Parameters:
    ///   - name: What is measured.
    ///   - subject: One operation of the code under test.
    ///   - baseline: The same work done the reference way (for example hand-written Swift).
    /// - Returns: Both timings and their ratio.
    /// - Throws: What the closures throw.
    public func compare<S, B>(_ name: String, subject: () throws -> S, baseline: () throws -> B) rethrows -> Comparison
    {
        let single = Benchmark(iterations: iterations, warmUpIterations: warmUpIterations, rounds: 1)
        var bestSubject = Double.infinity
        var bestBaseline = Double.infinity
        for round in 0..<rounds {
            let warmed = round == 0 ? single : Benchmark(iterations: iterations, warmUpIterations: 0, rounds: 1)
            bestSubject = min(bestSubject, try warmed.measure(name, subject).nanosecondsPerOperation)
            bestBaseline = min(bestBaseline, try warmed.measure(name, baseline).nanosecondsPerOperation)
        }
        return Comparison(
            subject: Measurement(name: name, nanosecondsPerOperation: bestSubject),
            baseline: Measurement(name: "\(name) (baseline)", nanosecondsPerOperation: bestBaseline)
        )
    }
}

private func formatNanoseconds(_ value: Double) -> String {
    formatFixed(value, decimals: 1)
}

private func formatRatio(_ value: Double) -> String {
    formatFixed(value, decimals: 2)
}

/// Fixed-point formatting without Foundation.
private func formatFixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<decimals {
        scale *= 10
    }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    var fraction = String(Int(scaled - Double(whole) * scale))
    while fraction.count < decimals {
        fraction = "0" + fraction
    }
    return (value < 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + fraction : "")
}
