// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconHTTP

@Suite("The HTTP engine's monotonic instants")
struct MonotonicInstantTests {
    @Test("arithmetic with durations and milliseconds, saturating at the ends")
    func arithmetic() {
        let start = MonotonicInstant(nanoseconds: 5_000_000_000)
        #expect((start + .milliseconds(1500)).nanoseconds == 6_500_000_000)
        #expect(start.adding(milliseconds: 250).nanoseconds == 5_250_000_000)
        #expect(start.adding(milliseconds: 250) - start == .milliseconds(250))
        #expect(start - start.adding(milliseconds: 250) == .milliseconds(-250))
        #expect((start + .seconds(Int64.max)).nanoseconds == .max)
        #expect(start.adding(milliseconds: .max).nanoseconds == .max)
        #expect(MonotonicInstant(nanoseconds: .min) - MonotonicInstant(nanoseconds: .max) == .nanoseconds(Int64.min))
    }

    @Test("the milliseconds until a later instant round up, and are 0 once it has come")
    func millisecondsUntil() {
        let start = MonotonicInstant(nanoseconds: 1_000)
        #expect(start.milliseconds(until: MonotonicInstant(nanoseconds: 1_000 + 2_000_000)) == 2)
        #expect(start.milliseconds(until: MonotonicInstant(nanoseconds: 1_000 + 2_000_001)) == 3)
        #expect(start.milliseconds(until: MonotonicInstant(nanoseconds: 1_001)) == 1)
        #expect(start.milliseconds(until: start) == 0)
        #expect(start.milliseconds(until: .origin) == 0)
    }

    @Test("the clock moves forward, and origin comes before any reading")
    func clock() {
        let first = MonotonicInstant.now
        let second = MonotonicInstant.now
        #expect(first <= second)
        #expect(MonotonicInstant.origin < first)
    }
}
