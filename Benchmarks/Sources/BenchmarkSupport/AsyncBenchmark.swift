// SPDX-License-Identifier: Apache-2.0

extension Benchmark {
    /// Measures one asynchronous operation: a warm-up, then timed rounds; the best round wins.
    ///
    /// - Parameters:
    ///   - name: What is measured.
    ///   - body: One operation; its result is passed to ``blackHole(_:)``.
    /// - Returns: The best round's time per operation.
    /// - Throws: What `body` throws.
    public func measure<T>(_ name: String, async body: () async throws -> T) async rethrows -> Measurement {
        for _ in 0..<warmUpIterations {
            blackHole(try await body())
        }
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = clock.now
            for _ in 0..<iterations {
                blackHole(try await body())
            }
            let elapsed = clock.now - start
            let nanoseconds =
                Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best = min(best, nanoseconds / Double(iterations))
        }
        return Measurement(name: name, nanosecondsPerOperation: best)
    }

    /// Measures an asynchronous subject and baseline in the same run, alternating rounds.
    ///
    /// Both run through the same asynchronous harness, so the ratio compares the work, not the calling
    /// convention of the harness.
    ///
    /// - Parameters:
    ///   - name: What is measured.
    ///   - subject: One operation of the code under test.
    ///   - baseline: The same work done the reference way.
    /// - Returns: Both timings and their ratio.
    /// - Throws: What the closures throw.
    public func compare<S, B>(
        _ name: String,
        async subject: () async throws -> S,
        baseline: () async throws -> B
    ) async rethrows -> Comparison {
        var bestSubject = Double.infinity
        var bestBaseline = Double.infinity
        for round in 0..<rounds {
            let single = Benchmark(
                iterations: iterations,
                warmUpIterations: round == 0 ? warmUpIterations : 0,
                rounds: 1
            )
            bestSubject = min(bestSubject, try await single.measure(name, async: subject).nanosecondsPerOperation)
            bestBaseline = min(bestBaseline, try await single.measure(name, async: baseline).nanosecondsPerOperation)
        }
        return Comparison(
            subject: Measurement(name: name, nanosecondsPerOperation: bestSubject),
            baseline: Measurement(name: "\(name) (baseline)", nanosecondsPerOperation: bestBaseline)
        )
    }
}
