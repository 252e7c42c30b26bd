// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import CoreMetrics
import Dispatch
import Logging
import Synchronization

/// Writes a cache's persistence file on a thread of its own, at most once per interval, so that encoding the cache,
/// writing the file and `fsync` never run on the caller's thread (a thread of Swift's cooperative pool).
///
/// A change only counts itself under a lock (``recordChange(_:)``). The first change while no writer thread is alive
/// starts one; the thread writes when the schedule (``PersistenceSchedule``) says so and ends once every change is
/// covered by a write attempt. So a cache that is never changed, or whose changes are all written, has no thread, and
/// nothing outlives the cache except a thread finishing its last write (it holds the cache until then).
///
/// Write failures are logged once per episode (a warning on the first, an info line when a write succeeds again) and
/// counted; they never reach the code that changed the cache.
final class PersistenceWriter: Sendable {
    /// Takes a snapshot of the cache, encodes it and stores it; runs on the writer thread.
    typealias Write = @Sendable () throws -> Void

    private let schedule: Lock<PersistenceSchedule>
    /// Signalled when a flush wants the sleeping thread to write at once.
    private let wakeUp = DispatchSemaphore(value: 0)
    private let path: String
    private let logger: Logger
    private let writes: Counter
    private let failures: Counter

    /// Creates a writer; no thread is started until the first change.
    ///
    /// - Parameters:
    ///   - path: The file's path, for logs.
    ///   - interval: The shortest time between two writes (flushes excepted).
    ///   - logger: Where failure episodes are logged.
    ///   - writes: Counts files written.
    ///   - failures: Counts failed write attempts.
    init(path: String, interval: Duration, logger: Logger, writes: Counter, failures: Counter) {
        self.path = path
        self.schedule = Lock(PersistenceSchedule(interval: UInt64(max(0, interval.saturatedNanoseconds))))
        self.logger = logger
        self.writes = writes
        self.failures = failures
    }

    /// Counts a change to the cache's contents, and starts the writer thread when none is alive.
    ///
    /// Costs a lock and an increment; `makeWrite` is called only when a thread is started.
    ///
    /// - Parameter makeWrite: Makes the job that snapshots, encodes and stores the cache.
    func recordChange(_ makeWrite: () -> Write) {
        guard self.schedule.withLock({ $0.recordChange() }) else { return }
        let write = makeWrite()
        let started = BeaconThread.detach(name: "beacon-persist") { self.work(write) }
        if !started {
            let finished = self.schedule.withLock { $0.threadFailedToStart() }
            self.report(finished, error: ThreadStartFailure())
        }
    }

    /// Waits until a write that covers every change made so far has been attempted, starting it at once if it waits
    /// for its interval.
    ///
    /// - Parameter cancellable: When `true`, cancelling the calling task stops the wait (not the write); otherwise the
    ///   wait goes on in a cancelled task, as when ``TTLCache/run()`` ends.
    func flush(cancellable: Bool) async {
        let waiterID = Atomic<UInt64>(0)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = self.schedule.withLock { schedule -> Bool in
                    // Checked under the lock: a cancellation handler that already ran found nothing to resume.
                    if cancellable && Task.isCancelled { return false }
                    guard let id = schedule.addWaiter(continuation) else { return false }
                    waiterID.store(id, ordering: .relaxed)
                    return true
                }
                guard waiting else {
                    continuation.resume()
                    return
                }
                self.wakeUp.signal()
            }
        } onCancel: {
            guard cancellable else { return }
            let continuation = self.schedule.withLock { schedule in
                schedule.removeWaiter(waiterID.load(ordering: .relaxed))
            }
            continuation?.resume()
        }
    }

    /// Whether a writer thread is alive (for tests).
    var isThreadRunning: Bool { self.schedule.withLock { $0.isThreadRunning } }

    /// The writer thread's body.
    private func work(_ write: Write) {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            switch self.schedule.withLock({ $0.next(now: now) }) {
            case .exit:
                return
            case .sleep(let deadline):
                _ = self.wakeUp.wait(timeout: DispatchTime(uptimeNanoseconds: deadline))
            case .write(let changes):
                var failure: (any Error)?
                do {
                    try write()
                    self.writes.increment()
                } catch {
                    failure = error
                    self.failures.increment()
                }
                let finished = self.schedule.withLock { $0.finish(covering: changes, succeeded: failure == nil) }
                self.report(finished, error: failure)
            }
        }
    }

    private func report(_ finished: PersistenceSchedule.Finished, error: (any Error)?) {
        if finished.failureEpisodeStarted, let error {
            self.logger.warning(
                "Cache could not be persisted; the file is written again with the next change",
                metadata: ["beacon.file": "\(self.path)", "beacon.error": "\(error)"]
            )
        } else if let error {
            self.logger.debug(
                "Cache could not be persisted",
                metadata: ["beacon.file": "\(self.path)", "beacon.error": "\(error)"]
            )
        } else if finished.recovered {
            self.logger.info("Cache persisted again", metadata: ["beacon.file": "\(self.path)"])
        }
        for waiter in finished.waiters { waiter.resume() }
    }
}

/// No thread could be started to write the persistence file (`pthread_create` failed).
private struct ThreadStartFailure: Error, CustomStringConvertible {
    var description: String { "no thread could be started to write the file" }
}
