// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Dispatch

/// Dedicated threads that run memcached pools' blocking libmemcached calls for their `async` API, so that a slow or
/// dead server never blocks a thread of Swift's cooperative pool.
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
public final class MemcachedWorkerThreads: Sendable {
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
        self.queue = MemcachedJobQueue(threads: self.count)
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

    /// Queues a job for the next free thread.
    ///
    /// - Parameter job: The work; it runs on one of the group's threads.
    /// - Returns: `false` when the group is closed and the job was not queued.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        self.queue.submit(job)
    }
}

/// The FIFO queue of a ``MemcachedWorkerThreads`` group and the body of its threads.
///
/// `threads` detached threads take the jobs one at a time. After ``close()`` they finish the jobs already queued and
/// exit; ``submit(_:)`` then refuses new jobs.
final class MemcachedJobQueue: Sendable {
    private struct Queue {
        /// The queued jobs, oldest first. A handful at most (one per task waiting for a worker), so taking the first
        /// costs less than keeping a ring.
        var jobs: [@Sendable () -> Void] = []
        var closed = false
    }

    private let queue = Lock(Queue())
    private let available = DispatchSemaphore(value: 0)
    private let threads: Int

    /// Starts the threads; each holds a reference to the queue until it exits.
    ///
    /// - Parameter threads: How many threads to start (at least 1).
    init(threads: Int) {
        self.threads = max(1, threads)
        for _ in 0..<self.threads {
            let started = BeaconThread.detach(name: "beacon-memcache") { self.work() }
            precondition(started, "no thread could be started for the memcached workers")
        }
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { self.queue.withLock { $0.closed } }

    /// How many jobs wait for a thread.
    var queuedJobs: Int { self.queue.withLock { $0.jobs.count } }

    /// Queues a job for the next free thread.
    ///
    /// - Parameter job: The work; it runs on a worker thread.
    /// - Returns: `false` when the queue is closed and the job was not queued.
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
        for _ in 0..<self.threads { self.available.signal() }
    }

    private func work() {
        while true {
            self.available.wait()
            let job = self.queue.withLock { queue in queue.jobs.isEmpty ? nil : queue.jobs.removeFirst() }
            if let job {
                job()
            } else if self.queue.withLock({ $0.closed }) {
                return
            }
        }
    }
}
