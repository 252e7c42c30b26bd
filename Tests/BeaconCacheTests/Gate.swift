// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// A one-shot latch: `wait()` suspends until `open()`; a load blocked on it keeps its flight in progress.
final class Gate: Sendable {
    private let state = Lock<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = self.state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = self.state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension Gate {
    /// A boolean shared between tasks.
    final class Flag: Sendable {
        private let state = Lock(false)
        var value: Bool { self.state.withLock { $0 } }
        func set(_ value: Bool) { self.state.withLock { $0 = value } }
    }
}

/// Counts calls from many tasks.
final class Counter: Sendable {
    private let value = Lock(0)

    @discardableResult
    func increment() -> Int {
        self.value.withLock {
            $0 += 1
            return $0
        }
    }

    var count: Int { self.value.withLock { $0 } }
}

struct LoadFailure: Error, Equatable {
    var attempt: Int
}
