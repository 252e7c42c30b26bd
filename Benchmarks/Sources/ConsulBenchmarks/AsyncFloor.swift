// SPDX-License-Identifier: Apache-2.0

import CurlBaseline
import Foundation
import Synchronization

/// The least an async Swift client built on libcurl's multi interface adds to a request: the C multi-socket loop of
/// `curl_baseline_events_*`, turned by a thread that is also a task executor, each GET awaited by a task on that
/// thread through a continuation and its body handed back as `[UInt8]`. No request or response types, headers,
/// cancellation, timeouts, locks around libcurl or decoding: the floor that `ConsulClient.get` on
/// `consul.taskExecutor` is compared with, to tell the cost of Swift concurrency itself from the client's own.
///
/// `@unchecked Sendable` is safe because the loop (`events`) and `pending` are only touched on the executor's
/// thread: by its run loop, and by ``get()``, which runs there (checked); the job queue is behind a `Mutex`, and the
/// thread's identity and the stop flag are atomics.
final class AsyncFloorExecutor: TaskExecutor, @unchecked Sendable {
    private let events: OpaquePointer
    private let jobs = Mutex<[UnownedJob]>([])
    private let threadID = Atomic<UInt>(0)
    private let stopped = Atomic<Bool>(false)
    private var pending: UnsafeContinuation<[UInt8], Never>?

    /// Creates the loop for `url` and starts its thread.
    init(url: String) {
        guard let events = curl_baseline_events_open(url) else {
            fatalError("the floor could not create its libcurl handles")
        }
        self.events = events
        Thread { [self] in self.run() }.start()
    }

    /// Queues a job; one queued from another thread ends the loop's wait.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let fromLoop = self.isLoopThread
        let wake = self.jobs.withLock { jobs in
            jobs.append(job)
            return jobs.count == 1 && !fromLoop
        }
        if wake { curl_baseline_events_wake(self.events) }
    }

    /// One GET of the URL, from a task on this executor.
    func get() async -> [UInt8] {
        precondition(self.isLoopThread, "the floor's GET runs on its executor")
        return await withUnsafeContinuation { continuation in
            self.pending = continuation
            curl_baseline_events_start(self.events)
        }
    }

    /// Ends the thread after its current turn (the handles stay open: the process is ending).
    func stop() {
        self.stopped.store(true, ordering: .relaxed)
        curl_baseline_events_wake(self.events)
    }

    private var isLoopThread: Bool {
        pthread_equal(pthread_self(), self.threadID.load(ordering: .relaxed)) != 0
    }

    private func run() {
        self.threadID.store(pthread_self(), ordering: .relaxed)
        var running: [UnownedJob] = []
        while !self.stopped.load(ordering: .relaxed) {
            self.jobs.withLock { swap(&$0, &running) }
            for job in running {
                job.runSynchronously(on: self.asUnownedTaskExecutor())
            }
            running.removeAll(keepingCapacity: true)
            let idle = self.jobs.withLock { $0.isEmpty }
            var result: Int32 = 0
            guard curl_baseline_events_turn(self.events, idle ? 1 : 0, &result) != 0 else { continue }
            precondition(result == 0, "the floor's GET failed with code \(result)")
            var length = 0
            let body = curl_baseline_events_body(self.events, &length)
            let continuation = self.pending.take()!
            continuation.resume(returning: [UInt8](UnsafeRawBufferPointer(start: body, count: length)))
        }
    }
}
