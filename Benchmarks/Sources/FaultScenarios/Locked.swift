// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A value behind a mutex that tasks can share (a `Mutex` itself cannot be captured: it is not copyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Creates the box with its first value.
    init(_ value: Value) { self.mutex = Mutex(value) }

    /// Runs `body` with the value, holding the lock.
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.mutex.withLock { value in body(&value) }
    }
}
