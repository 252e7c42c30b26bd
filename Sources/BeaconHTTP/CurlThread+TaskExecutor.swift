// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// The jobs waiting to run on the I/O thread.
struct JobQueue: ~Copyable {
    /// The jobs, in the order they were queued.
    var jobs: [UnownedJob] = []
    /// Set when the I/O thread has exited: jobs go to the global concurrent executor from then on.
    var closed = false
}

/// The I/O thread as a task executor.
///
/// A task that prefers this executor (`withTaskExecutorPreference(client.taskExecutor)`) runs on the I/O thread
/// between the loops' turns. A response then resumes its task without a thread hand-off: the I/O thread completes
/// the transfer, runs the task until it awaits again (typically, for its next request, which the same thread sends
/// at once) and goes back to waiting. Such code must not block: while it runs, no other transfer on the thread
/// progresses.
extension CurlThread: TaskExecutor {
    /// Queues a job for the I/O thread. A job queued from another thread wakes the I/O thread when it is the first
    /// in the queue (later ones ride on that wake-up); one queued by the I/O thread itself needs none, as the thread
    /// looks at the queue before it sleeps. Once the I/O thread has exited, jobs run on the global concurrent
    /// executor.
    ///
    /// - Parameter job: The job.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let fromLoopThread = self.isLoopThread
        let outcome = self.jobs.withLock { queue -> (accepted: Bool, wake: Bool) in
            guard !queue.closed else { return (false, false) }
            let wasEmpty = queue.jobs.isEmpty
            queue.jobs.append(job)
            return (true, wasEmpty && !fromLoopThread)
        }
        if !outcome.accepted {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        } else if outcome.wake {
            self.wake()
        }
    }

    /// Whether the calling thread is the I/O thread.
    var isLoopThread: Bool {
        pthread_equal(self.loopThread.load(ordering: .acquiring), pthread_self()) != 0
    }

    /// Runs the jobs queued so far, on the I/O thread, outside any engine lock. Jobs that these queue wait for the
    /// next turn, so that a task that keeps yielding cannot starve the transfers.
    ///
    /// - Parameter running: An empty array the thread keeps from call to call: the queue's array and this one trade
    ///   places, so that neither is allocated again for each job.
    /// - Returns: Whether jobs are waiting (the loop's next turn must then not sleep).
    func runJobs(swappingWith running: inout [UnownedJob]) -> Bool {
        self.jobs.withLock { queue in swap(&queue.jobs, &running) }
        guard !running.isEmpty else { return false }
        let executor = self.asUnownedTaskExecutor()
        for job in running {
            job.runSynchronously(on: executor)
        }
        running.removeAll(keepingCapacity: true)
        return self.jobs.withLock { !$0.jobs.isEmpty }
    }

    /// Closes the queue as the I/O thread exits: the jobs left, and later ones, go to the global concurrent
    /// executor.
    func closeJobQueue() {
        let left = self.jobs.withLock { queue in
            queue.closed = true
            defer { queue.jobs = [] }
            return queue.jobs
        }
        for job in left {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }
}
