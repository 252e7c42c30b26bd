// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconPostgres

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The poll thread's lifetime: it runs while a claim is alive, and a poller of the test's own (not the process-wide
/// one, which the suite's other tests use in parallel) shows when it starts and stops. No server needed.
@Suite("SocketPoller's thread", .timeLimit(.minutes(1)))
struct SocketPollerTests {
    /// Waits up to 5 seconds for the thread to be in the expected state.
    static func eventually(_ poller: SocketPoller, running: Bool) async throws -> Bool {
        for _ in 0..<500 where poller.isThreadRunning != running {
            try await Task.sleep(for: .milliseconds(10))
        }
        return poller.isThreadRunning == running
    }

    @Test("no thread before the first claim; it runs while a claim is alive, stops after the last, and starts again")
    func runsWhileClaimed() async throws {
        let poller = SocketPoller()
        #expect(!poller.isThreadRunning)
        var first: SocketPoller.Claim? = poller.claim()
        #expect(poller.isThreadRunning)
        var second: SocketPoller.Claim? = poller.claim()
        first = nil
        try await Task.sleep(for: .milliseconds(50))
        #expect(poller.isThreadRunning)
        second = nil
        #expect(try await Self.eventually(poller, running: false))
        _ = (first, second)

        // A new claim starts a new thread, which serves waits as the first one did.
        let claim = poller.claim()
        #expect(poller.isThreadRunning)
        var descriptors: [Int32] = [-1, -1]
        #expect(pipe(&descriptors) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }
        let readEnd = descriptors[0]
        async let outcome = poller.wait(
            id: poller.makeID(),
            socket: readEnd,
            for: .read,
            until: ContinuousClock.now.advanced(by: .seconds(10))
        )
        var byte: UInt8 = 1
        #expect(write(descriptors[1], &byte, 1) == 1)
        #expect(try await outcome == .ready(.read))
        withExtendedLifetime(claim) {}
    }
}
