// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Foundation
import Testing

/// The package's lock: exclusive access, no waiting in `withLockIfAvailable`, and (run under
/// `scripts/sanitize thread`) no ThreadSanitizer report for values touched only inside it.
@Suite("Lock")
struct LockTests {
    @Test("four threads appending under the lock lose nothing")
    func appendsFromThreads() {
        let appended = Lock<[Int]>([])
        let group = DispatchGroup()
        for thread in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                for index in 0..<1_000 {
                    appended.withLock { $0.append(thread * 1_000 + index) }
                }
                group.leave()
            }
        }
        group.wait()
        #expect(appended.withLock { Set($0) } == Set(0..<4_000))
    }

    @Test("withLockIfAvailable does not run its body while another holder has the lock")
    func ifAvailable() {
        let lock = Lock(0)
        lock.withLock { $0 = 1 }
        #expect(lock.withLockIfAvailable { $0 } == 1)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            lock.withLock { _ in
                entered.signal()
                release.wait()
            }
        }
        entered.wait()
        #expect(lock.withLockIfAvailable { $0 } == nil)
        release.signal()
        #expect(lock.withLock { $0 } == 1)
    }

    @Test("what the body throws reaches the caller, and the lock is free again")
    func throwing() {
        struct Failure: Error {}
        let lock = Lock("value")
        #expect(throws: Failure.self) {
            try lock.withLock { (_: inout String) throws(Failure) in throw Failure() }
        }
        #expect(lock.withLockIfAvailable { $0 } == "value")
    }
}
