// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// Dedicated threads that run a pool's blocking libmemcached calls for the async API, so that a slow or dead
/// server never blocks a thread of Swift's cooperative pool.
///
/// Jobs wait in a FIFO queue; `count` detached threads take them one at a time. After ``close()`` the threads
/// finish the jobs already queued and exit; ``submit(_:)`` then refuses new jobs.
final class MemcachedWorkers: Sendable {
    private struct Queue {
        /// Queued jobs from `head` on; taken slots are cleared so that a finished job (and what it captured, such
        /// as the pool) is released at once.
        var jobs: [(@Sendable () -> Void)?] = []
        var head = 0
        var closed = false
    }

    private let queue = Lock(Queue())
    private let available = DispatchSemaphore(value: 0)
    private let count: Int

    /// Starts the threads.
    ///
    /// - Parameter count: How many threads to start (at least 1).
    init(count: Int) {
        self.count = max(1, count)
        for _ in 0..<self.count {
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(
                &thread,
                nil,
                { context in
                    let workers = Unmanaged<MemcachedWorkers>.fromOpaque(context!).takeRetainedValue()
                    workers.work()
                    return nil
                },
                context
            )
            precondition(result == 0, "pthread_create failed with error \(result)")
            pthread_detach(thread)
        }
    }

    /// Queues a job for the next free thread.
    ///
    /// - Parameter job: The work; it runs on a worker thread.
    /// - Returns: `false` when the workers are closed and the job was not queued.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = self.queue.withLock { queue in
            guard !queue.closed else { return false }
            queue.jobs.append(job)
            return true
        }
        if accepted { self.available.signal() }
        return accepted
    }

    /// Lets the threads exit once the queue is empty; later submissions are refused. Does not wait.
    func close() {
        let first = self.queue.withLock { queue in
            defer { queue.closed = true }
            return !queue.closed
        }
        guard first else { return }
        for _ in 0..<self.count { self.available.signal() }
    }

    private func work() {
        while true {
            self.available.wait()
            let job: (@Sendable () -> Void)? = self.queue.withLock { queue in
                guard queue.head < queue.jobs.count else { return nil }
                let job = queue.jobs[queue.head]
                queue.jobs[queue.head] = nil
                queue.head += 1
                if queue.head == queue.jobs.count {
                    queue.jobs.removeAll(keepingCapacity: true)
                    queue.head = 0
                } else if queue.head > 64, queue.head * 2 > queue.jobs.count {
                    queue.jobs.removeFirst(queue.head)
                    queue.head = 0
                }
                return job
            }
            if let job {
                job()
            } else if self.queue.withLock({ $0.closed }) {
                return
            }
        }
    }
}
