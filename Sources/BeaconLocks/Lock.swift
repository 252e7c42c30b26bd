// SPDX-License-Identifier: Apache-2.0

public import Synchronization

#if BEACON_THREAD_SANITIZER
public import CBeaconSupport
#endif

/// A lock that protects a value: the standard library's `Mutex`, made visible to ThreadSanitizer.
///
/// `Mutex` on Linux waits on a futex that ThreadSanitizer cannot see, so under `-sanitize=thread` every value it
/// protects looks unsynchronized and the sanitizer reports races that cannot happen. In a build with the
/// `BEACON_THREAD_SANITIZER` condition (set by `Package.swift` when `BEACON_SANITIZE=thread`, as
/// `scripts/sanitize thread` does), each critical section tells the sanitizer that it acquires and releases the
/// lock (identified by a byte allocated for it); real races on the value outside the lock are still reported. Every
/// other build is `Mutex` and nothing more: the methods are inlined into the caller.
///
/// Every lock of the package is a `Lock`, so that a ThreadSanitizer report always means something.
///
/// `Lock` is `@usableFromInline`, and `Synchronization` (and, under ThreadSanitizer, `CBeaconSupport`) is imported
/// `public`, for one reason: `TTLCache`'s hit path is `@inlinable` (so that it is specialized for the caller's key
/// and value types) and takes the cache's `Lock`, so the lock's inlined code reaches an application's module. Taking
/// that lock out of line instead measured two to three times slower per hit, and a hit path that is not inlinable
/// six to ten times slower; every other module holds its locks in declarations that are not inlinable.
@usableFromInline
package struct Lock<Value: ~Copyable>: ~Copyable {
    @usableFromInline
    let mutex: Mutex<Value>

    #if BEACON_THREAD_SANITIZER
    /// The lock's identity for ThreadSanitizer: a byte of its own, so that naming the lock touches nothing the lock
    /// protects (taking the address of the value before acquiring would itself look like a race). Kept as an
    /// address, never read or written through, so that the lock stays `Sendable` without exception.
    @usableFromInline
    let identity: UInt

    /// Creates a lock protecting `initialValue`.
    ///
    /// - Parameter initialValue: The value the lock protects.
    @inlinable
    package init(_ initialValue: consuming sending Value) {
        self.mutex = Mutex(initialValue)
        self.identity = UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1))
    }

    deinit {
        UnsafeMutableRawPointer(bitPattern: self.identity)?.deallocate()
    }
    #else
    /// Creates a lock protecting `initialValue`.
    ///
    /// - Parameter initialValue: The value the lock protects.
    @inlinable
    package init(_ initialValue: consuming sending Value) {
        self.mutex = Mutex(initialValue)
    }
    #endif

    /// Runs `body` with exclusive access to the value, waiting for the lock if another thread holds it.
    ///
    /// - Parameter body: What to do with the value while the lock is held; it must not take the same lock again.
    /// - Returns: What `body` returned.
    /// - Throws: What `body` threw (the lock is released first).
    @inlinable
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if BEACON_THREAD_SANITIZER
        let identity = UnsafeMutableRawPointer(bitPattern: self.identity)
        return try self.mutex.withLock { value throws(E) -> sending Result in
            cbeacon_tsan_acquire(identity)
            defer { cbeacon_tsan_release(identity) }
            return try body(&value)
        }
        #else
        try self.mutex.withLock(body)
        #endif
    }

    /// Runs `body` with exclusive access to the value if no other thread holds the lock; never waits.
    ///
    /// - Parameter body: What to do with the value while the lock is held; it must not take the same lock again.
    /// - Returns: What `body` returned, or `nil` when the lock was busy and `body` did not run.
    /// - Throws: What `body` threw (the lock is released first).
    @inlinable
    package borrowing func withLockIfAvailable<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result? {
        #if BEACON_THREAD_SANITIZER
        let identity = UnsafeMutableRawPointer(bitPattern: self.identity)
        return try self.mutex.withLockIfAvailable { value throws(E) -> sending Result in
            cbeacon_tsan_acquire(identity)
            defer { cbeacon_tsan_release(identity) }
            return try body(&value)
        }
        #else
        try self.mutex.withLockIfAvailable(body)
        #endif
    }
}

extension Lock: Sendable where Value: ~Copyable {}
