// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Logging
import Testing

@testable import BeaconConsul

/// The documented index rules of blocking queries, against a scripted sequence of answers.
@Suite("Consul blocking queries")
struct BlockingQueryTests {
    /// Answers with a script of (value, index) pairs, recording the index each request sent.
    final class Script: Sendable {
        private let state: Lock<(answers: [(String, UInt64)], sent: [UInt64?])>

        init(_ answers: [(String, UInt64)]) {
            self.state = Lock((answers, []))
        }

        var sent: [UInt64?] { self.state.withLock { $0.sent } }

        func read(_ index: UInt64?) throws -> (String, QueryMeta) {
            try self.state.withLock { state in
                state.sent.append(index)
                guard !state.answers.isEmpty else { throw CancellationError() }
                let (value, answerIndex) = state.answers.removeFirst()
                var meta = QueryMeta(agent: "test")
                meta.index = answerIndex
                return (value, meta)
            }
        }
    }

    static func query(_ script: Script) -> BlockingQuery<String> {
        BlockingQuery(wait: .seconds(1), subject: "test", logger: Logger(label: "test")) { index, _ in
            try script.read(index)
        }
    }

    @Test("the next request waits beyond the last index; a return without a change is not delivered")
    func followsIndex() async throws {
        let script = Script([("a", 10), ("a", 11), ("b", 12)])
        let query = Self.query(script)
        #expect(try await query.next() == "a")
        #expect(try await query.next() == "b")
        #expect(try await query.next() == nil)
        #expect(script.sent == [nil, 10, 11, 12])
    }

    @Test("an index that goes backwards is reset: the next request reads at once")
    func indexBackwards() async throws {
        let script = Script([("a", 50), ("b", 7), ("b", 8), ("c", 9)])
        let query = Self.query(script)
        #expect(try await query.next() == "a")
        #expect(try await query.next() == "b")
        #expect(query.currentIndex == 0)
        #expect(try await query.next() == "c")
        #expect(script.sent == [nil, 50, nil, 8])
    }

    @Test("an index of 0 is never sent back as 0: at least 1")
    func neverZero() async throws {
        let script = Script([("a", 0), ("b", 0)])
        let query = Self.query(script)
        #expect(try await query.next() == "a")
        #expect(query.currentIndex == 1)
        #expect(try await query.next() == "b")
        #expect(script.sent == [nil, 1])
    }

    @Test("requests that return at once without a change are paced, with a growing pause")
    func pacing() async throws {
        let script = Script(Array(repeating: ("a", 5), count: 6) + [("b", 6)])
        let query = Self.query(script)
        #expect(try await query.next() == "a")
        let started = ContinuousClock.now
        #expect(try await query.next() == "b")
        // Five unchanged answers at once: pauses of 50, 100, 200, 400 and 800 ms, each jittered down to half.
        #expect(started.duration(to: .now) >= .milliseconds(750))
    }
}
