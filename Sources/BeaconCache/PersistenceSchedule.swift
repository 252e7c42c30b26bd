// SPDX-License-Identifier: Apache-2.0

/// When a cache's persistence file is written: the pure core of ``PersistenceWriter``, taking the time as an argument.
///
/// Every change to the cache's contents bumps a counter. The writer thread asks ``next(now:)`` what to do: write
/// (covering the changes counted so far), sleep until the interval since the last write has passed, or exit because
/// everything is written. A write starts at once when the previous one is at least an interval old, so a change after
/// a quiet period reaches disk without delay, and changes during the interval are coalesced into one write at its
/// end. A flush waiter skips the wait.
struct PersistenceSchedule {
    /// What the writer thread does next.
    enum Step: Equatable {
        /// Snapshot the cache and write it; the snapshot covers the changes counted up to `changes`.
        case write(covering: UInt64)
        /// Nothing is due before this time (nanoseconds on the writer's monotonic scale).
        case sleep(until: UInt64)
        /// Everything is written (or was attempted): the thread ends, and the next change starts another.
        case exit
    }

    /// What finishing a write attempt means for its waiters and the log.
    struct Finished {
        /// Flushes now satisfied.
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// The first failure of an episode: log it.
        var failureEpisodeStarted = false
        /// A write succeeded after failures: log the recovery.
        var recovered = false
    }

    /// The shortest time between the starts of two writes, in nanoseconds (flushes excepted).
    let interval: UInt64
    /// Changes to the cache's contents so far.
    private(set) var changes: UInt64 = 0
    /// The changes covered by the last finished write attempt, successful or not.
    private(set) var attempted: UInt64 = 0
    /// When the last write started; `nil` before the first.
    private var lastWriteStart: UInt64?
    /// Whether a writer thread is alive. Invariant: `changes > attempted` implies a thread is alive.
    private(set) var isThreadRunning = false
    /// Whether the last write attempt failed.
    private(set) var isFailing = false
    /// Flushes waiting for a write that covers `target` changes.
    private var waiters: [UInt64: (target: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextWaiterID: UInt64 = 0

    /// Creates a schedule.
    ///
    /// - Parameter interval: The shortest time between two writes, in nanoseconds.
    init(interval: UInt64) {
        self.interval = interval
    }

    /// Whether some change is not covered by a write attempt yet.
    var isDirty: Bool { self.changes > self.attempted }

    /// How many flushes wait (for tests).
    var waiterCount: Int { self.waiters.count }

    /// Counts a change to the cache's contents.
    ///
    /// - Returns: `true` when no writer thread is alive: the caller must start one.
    mutating func recordChange() -> Bool {
        self.changes += 1
        guard !self.isThreadRunning else { return false }
        self.isThreadRunning = true
        return true
    }

    /// Decides what the writer thread does next.
    ///
    /// - Parameter now: The current time on the writer's monotonic scale, in nanoseconds.
    /// - Returns: The step; after ``Step/exit`` the thread must end without touching the schedule again.
    mutating func next(now: UInt64) -> Step {
        guard self.isDirty else {
            self.isThreadRunning = false
            return .exit
        }
        let flushWanted = self.waiters.values.contains { $0.target > self.attempted }
        if let lastWriteStart, !flushWanted {
            let (due, overflow) = lastWriteStart.addingReportingOverflow(self.interval)
            if now < due && !overflow { return .sleep(until: due) }
            if overflow { return .sleep(until: .max) }
        }
        self.lastWriteStart = now
        return .write(covering: self.changes)
    }

    /// Records a finished write attempt.
    ///
    /// A failed write is not retried by itself: the next change, or a flush, writes the whole cache again.
    ///
    /// - Parameters:
    ///   - changes: What the attempt covered (the value of ``Step/write(covering:)``).
    ///   - succeeded: Whether the file was written.
    /// - Returns: The flushes to resume and what to log.
    mutating func finish(covering changes: UInt64, succeeded: Bool) -> Finished {
        self.attempted = max(self.attempted, changes)
        var finished = Finished(waiters: self.takeWaiters(upTo: self.attempted))
        if succeeded {
            finished.recovered = self.isFailing
            self.isFailing = false
        } else {
            finished.failureEpisodeStarted = !self.isFailing
            self.isFailing = true
        }
        return finished
    }

    /// Records that no writer thread could be started: the changes so far count as a failed attempt.
    ///
    /// - Returns: The flushes to resume and what to log.
    mutating func threadFailedToStart() -> Finished {
        self.isThreadRunning = false
        return self.finish(covering: self.changes, succeeded: false)
    }

    /// Registers a flush that waits for every change counted so far.
    ///
    /// - Parameter continuation: Resumed when a write attempt covers those changes.
    /// - Returns: The waiter's id, or `nil` when nothing is pending (the caller resumes the continuation itself).
    mutating func addWaiter(_ continuation: CheckedContinuation<Void, Never>) -> UInt64? {
        guard self.isDirty else { return nil }
        self.nextWaiterID += 1
        self.waiters[self.nextWaiterID] = (self.changes, continuation)
        return self.nextWaiterID
    }

    /// Removes a flush whose task was cancelled.
    ///
    /// - Parameter id: The id ``addWaiter(_:)`` returned.
    /// - Returns: Its continuation, if it still waited.
    mutating func removeWaiter(_ id: UInt64) -> CheckedContinuation<Void, Never>? {
        self.waiters.removeValue(forKey: id)?.continuation
    }

    private mutating func takeWaiters(upTo attempted: UInt64) -> [CheckedContinuation<Void, Never>] {
        let done = self.waiters.filter { $0.value.target <= attempted }
        for id in done.keys { self.waiters.removeValue(forKey: id) }
        return done.values.map(\.continuation)
    }
}
