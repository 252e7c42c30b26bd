// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("BeaconMemcached needs Glibc or Musl")
#endif

/// Dedicated threads that run memcached pools' blocking libmemcached calls for their `async` API, so that a slow or
/// dead server never blocks a thread of Swift's cooperative pool. The group is a `TaskExecutor`.
///
/// By default every ``MemcachedPool`` starts a group of its own, ``MemcachedPool/Configuration/maxConnections``
/// threads, and stops it when the pool is closed; a ``DynamicMemcachedPool`` starts one group for all the pools it
/// builds and stops it when its ``DynamicMemcachedPool/run()`` ends. An application that runs several pools can size
/// one group itself and share it through ``MemcachedPool/Configuration/workerThreads``:
///
/// ```swift
/// let workers = MemcachedWorkerThreads(count: 8)
/// defer { workers.close() }
/// let sessions = try MemcachedPool(servers: sessionServers, configuration: .init(workerThreads: workers))
/// let fragments = try MemcachedPool(servers: fragmentServers, configuration: .init(workerThreads: workers))
/// ```
///
/// The group then belongs to the application: pools use it but never close it. It stops when ``close()`` is called,
/// or when the last reference to it (the application's or a pool's) goes away. Each `async` operation occupies one
/// thread while it runs, so a shared group bounds how many operations of all its pools run at once; the blocking
/// ``MemcachedClient/withBlockingConnection(_:)`` does not use the threads at all. The threads are named
/// `beacon-memcache`.
///
/// ## Running callers on the group
///
/// An `async` operation called from a task on Swift's global executor moves to one of the group's threads for the
/// libmemcached call and back afterwards: two thread hand-offs, which cost more than a memcached round trip on a
/// local network. A task that prefers the group as its executor pays neither: the operation then runs the call on
/// the thread the task is already on, as a C program would, and the task goes on there.
///
/// ```swift
/// try await withTaskExecutorPreference(workers) {
///     let session = try await sessions.get("session:\(id)")
///     try await fragments.set("seen:\(id)", value: Array("1".utf8))
/// }
/// ```
///
/// Everything such a task does runs on the group's threads while they are free, so keep the preference around the
/// memcached-heavy part of a request: a thread blocked in a memcached call runs nothing else, and the group has
/// ``count`` threads. After ``close()``, work that still prefers the group runs on Swift's global executor, while the
/// pools' operations throw ``MemcachedError/Code/closed`` instead of blocking it.
public final class MemcachedWorkerThreads: TaskExecutor {
    /// How many threads the group started.
    public let count: Int
    /// The queue the threads take jobs from; the threads hold it, not the group, so that dropping the group's last
    /// reference stops them.
    private let queue: MemcachedJobQueue

    /// Starts the threads.
    ///
    /// - Parameter count: How many threads to start; values below 1 start 1.
    public init(count: Int) {
        self.count = max(1, count)
        self.queue = MemcachedJobQueue()
        self.queue.start(threads: self.count, executor: self.asUnownedTaskExecutor())
    }

    deinit {
        self.queue.close()
    }

    /// Lets the threads exit once the jobs already queued have run; later operations of the pools that use the group
    /// throw ``MemcachedError/Code/closed``. Idempotent; it does not wait for the threads.
    public func close() {
        self.queue.close()
    }

    /// `true` once ``close()`` was called.
    public var isClosed: Bool { self.queue.isClosed }

    /// How many jobs wait in the queue for a free thread (not counting those running).
    package var queuedJobs: Int { self.queue.queuedJobs }

    /// Whether the calling thread is one of the group's.
    var isCurrent: Bool { self.queue.isWorkerThread }

    /// Queues a job for the next free thread (after ``close()``, hands it to Swift's global executor).
    ///
    /// - Parameter job: The job.
    public func enqueue(_ job: consuming ExecutorJob) {
        self.queue.enqueue(job)
    }

}

/// The FIFO queue of a ``MemcachedWorkerThreads`` group, and the body of its threads.
///
/// The threads take the jobs one at a time and run them on the group, as their task executor. After ``close()`` they
/// finish the jobs already queued and exit; jobs enqueued later go to Swift's global concurrent executor (a task
/// executor must run every job it is given).
///
/// The threads refer to the group unowned, so that dropping its last reference closes the queue. That is safe: a
/// job on the queue belongs to a task that prefers the group (or to an operation of a pool, which holds it), and a
/// task keeps the executor it prefers alive (`withTaskExecutorPreference`'s caller holds it; a task created with a
/// preference retains it), so while there are jobs to run, the group exists.
final class MemcachedJobQueue: Sendable {
    private struct Queue {
        /// The queued jobs, oldest first. A handful at most (one per task waiting for a worker), so taking the first
        /// costs less than keeping a ring.
        var jobs: [UnownedJob] = []
        var closed = false
        /// The threads that started, to tell them from others.
        var threadIDs: [pthread_t] = []
    }

    private let queue = Lock(Queue())
    private let available = DispatchSemaphore(value: 0)
    /// How many threads ``start(threads:executor:)`` started.
    private let threads = Atomic<Int>(0)

    /// Starts the threads and returns once each runs, under its name, and is known to ``isWorkerThread``; each holds
    /// a reference to the queue until it exits. Called once.
    ///
    /// - Parameters:
    ///   - threads: How many threads to start (at least 1).
    ///   - executor: The group, which the jobs run on.
    func start(threads: Int, executor: UnownedTaskExecutor) {
        let count = max(1, threads)
        self.threads.store(count, ordering: .relaxed)
        let running = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            let started = BeaconThread.detach(name: "beacon-memcache") { self.work(on: executor, running: running) }
            precondition(started, "no thread could be started for the memcached workers")
        }
        for _ in 0..<count { running.wait() }
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { self.queue.withLock { $0.closed } }

    /// How many jobs wait for a thread.
    var queuedJobs: Int { self.queue.withLock { $0.jobs.count } }

    /// Whether the calling thread is one of the queue's.
    var isWorkerThread: Bool {
        let current = pthread_self()
        return self.queue.withLock { queue in queue.threadIDs.contains { pthread_equal($0, current) != 0 } }
    }

    /// Queues a job for the next free thread, or, once the queue is closed, hands it to the global executor.
    ///
    /// - Parameter job: The job.
    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let accepted = self.queue.withLock { queue in
            guard !queue.closed else { return false }
            queue.jobs.append(unowned)
            return true
        }
        if accepted {
            self.available.signal()
        } else {
            globalConcurrentExecutor.enqueue(ExecutorJob(unowned))
        }
    }

    /// Lets the threads exit once the queue is empty; later jobs go to the global executor. Does not wait.
    func close() {
        let first = self.queue.withLock { queue in
            defer { queue.closed = true }
            return !queue.closed
        }
        guard first else { return }
        for _ in 0..<self.threads.load(ordering: .relaxed) { self.available.signal() }
    }

    private func work(on executor: UnownedTaskExecutor, running: DispatchSemaphore) {
        let current = pthread_self()
        self.queue.withLock { $0.threadIDs.append(current) }
        running.signal()
        while true {
            self.available.wait()
            let job = self.queue.withLock { queue in queue.jobs.isEmpty ? nil : queue.jobs.removeFirst() }
            if let job {
                job.runSynchronously(on: executor)
            } else if self.queue.withLock({ $0.closed }) {
                self.queue.withLock { queue in queue.threadIDs.removeAll { pthread_equal($0, current) != 0 } }
                return
            }
        }
    }
}
