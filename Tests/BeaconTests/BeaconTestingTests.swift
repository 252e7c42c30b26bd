// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconTesting
import Testing

@Suite("BeaconTesting helpers", .timeLimit(.minutes(1)))
struct BeaconTestingTests {
    @Test("a manual clock wakes sleepers only when advanced past their deadline")
    func manualClock() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(4))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await sleeper.value
        #expect(clock.now.offset == .seconds(5))
        try await clock.sleep(until: clock.now)
    }

    @Test("sleeping on a manual clock throws when cancelled")
    func manualClockCancellation() async {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        await clock.waitForSleepers(1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("a fault-injecting source fails on demand and counts calls")
    func faultInjection() async throws {
        let source = FaultInjectingSource(StaticSource(["/k": "v"]))
        #expect(try await source.get("/k")?.string == "v")
        source.failNext(2)
        await #expect(throws: BeaconError.self) { try await source.get("/k") }
        await #expect(throws: BeaconError.self) { try await source.list(prefix: "/") }
        #expect(try await source.list(prefix: "/").count == 1)
        source.failAll()
        await #expect(throws: BeaconError.self) { try await source.get("/k") }
        source.heal()
        #expect(try await source.get("/k") != nil)
        #expect(source.counts == .init(get: 4, list: 2, watch: 0, failed: 3))
    }
}
