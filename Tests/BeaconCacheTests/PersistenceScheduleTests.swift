// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import BeaconCache

/// The pure core of the persistence writer: when it writes, sleeps and ends, with the time as an argument.
@Suite("PersistenceSchedule", .timeLimit(.minutes(1)))
struct PersistenceScheduleTests {
    @Test("the first change starts a thread that writes at once; later changes wait for the interval")
    func coalescing() {
        var schedule = PersistenceSchedule(interval: 1_000)
        let first = schedule.recordChange()
        let second = schedule.recordChange()
        #expect(first && !second)
        #expect(schedule.next(now: 10) == .write(covering: 2))
        var started = 0
        for _ in 0..<100 where schedule.recordChange() { started += 1 }
        #expect(started == 0)
        _ = schedule.finish(covering: 2, succeeded: true)
        #expect(schedule.next(now: 20) == .sleep(until: 1_010))
        #expect(schedule.next(now: 1_010) == .write(covering: 102))
        _ = schedule.finish(covering: 102, succeeded: true)
        #expect(schedule.next(now: 1_020) == .exit)
        #expect(!schedule.isThreadRunning)
        // A change after the thread ended starts another, which waits for what is left of the interval.
        let again = schedule.recordChange()
        #expect(again)
        #expect(schedule.next(now: 1_500) == .sleep(until: 2_010))
    }

    @Test("a flush skips the interval and is resumed by the write that covers it")
    func flush() async {
        // The continuation stands in for a waiting flush; it is resumed from what `finish` hands back.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var schedule = PersistenceSchedule(interval: 1_000_000)
            _ = schedule.recordChange()
            _ = schedule.next(now: 0)
            _ = schedule.finish(covering: 1, succeeded: true)
            _ = schedule.recordChange()
            #expect(schedule.next(now: 1) == .sleep(until: 1_000_000))
            let waiterID = schedule.addWaiter(continuation)
            #expect(waiterID != nil)
            #expect(schedule.next(now: 2) == .write(covering: 2))
            let finished = schedule.finish(covering: 2, succeeded: true)
            #expect(finished.waiters.count == 1)
            #expect(schedule.waiterCount == 0)
            for waiter in finished.waiters { waiter.resume() }
        }
    }

    @Test("nothing pending: a flush does not wait")
    func flushWhenClean() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var schedule = PersistenceSchedule(interval: 1_000)
            let waiterID = schedule.addWaiter(continuation)
            #expect(waiterID == nil)
            continuation.resume()
        }
    }

    @Test("a failure starts an episode once; a success ends it")
    func failureEpisode() {
        var schedule = PersistenceSchedule(interval: 0)
        _ = schedule.recordChange()
        _ = schedule.next(now: 0)
        let first = schedule.finish(covering: 1, succeeded: false)
        #expect(first.failureEpisodeStarted)
        #expect(schedule.next(now: 1) == .exit)
        _ = schedule.recordChange()
        _ = schedule.next(now: 2)
        let second = schedule.finish(covering: 2, succeeded: false)
        #expect(!second.failureEpisodeStarted && !second.recovered)
        _ = schedule.recordChange()
        _ = schedule.next(now: 3)
        let third = schedule.finish(covering: 3, succeeded: true)
        #expect(third.recovered)
    }

    @Test("a thread that cannot start counts as a failed write, and the next change tries again")
    func threadFailedToStart() {
        var schedule = PersistenceSchedule(interval: 0)
        let started = schedule.recordChange()
        let failed = schedule.threadFailedToStart()
        #expect(started && failed.failureEpisodeStarted)
        #expect(!schedule.isThreadRunning && !schedule.isDirty)
        let again = schedule.recordChange()
        #expect(again)
    }
}
