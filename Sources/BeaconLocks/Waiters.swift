// SPDX-License-Identifier: Apache-2.0

/// Tasks suspended until a condition on a ``Lock``'s value holds, kept inside that value.
///
/// A task waits with ``Lock/wait(in:until:)``; whoever changes the value so that the condition holds takes the
/// waiters out with ``removeAll()`` while holding the lock and resumes them after releasing it:
///
/// ```swift
/// let waiters = self.state.withLock { state in
///     state.closed = true
///     return state.drainWaiters.removeAll()
/// }
/// waiters.resume()
/// ```
package struct Waiters: Sendable {
    private var continuations: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextID: UInt64 = 0

    /// Creates an empty list.
    package init() {}

    /// Whether no task is waiting.
    package var isEmpty: Bool { self.continuations.isEmpty }

    /// Takes every waiting task out of the list; resume them with ``Resumption/resume()`` once the lock is released.
    package mutating func removeAll() -> Resumption {
        defer { self.continuations = [:] }
        return Resumption(continuations: Array(self.continuations.values))
    }

    /// Waiting tasks taken out of a list, to be resumed outside the lock.
    package struct Resumption: Sendable {
        fileprivate var continuations: [CheckedContinuation<Void, Never>]

        /// No task.
        package static let none = Resumption(continuations: [])

        /// Resumes the tasks.
        package func resume() {
            for continuation in self.continuations { continuation.resume() }
        }
    }

    fileprivate mutating func reserveID() -> UInt64 {
        self.nextID += 1
        return self.nextID
    }

    fileprivate mutating func add(_ id: UInt64, _ continuation: CheckedContinuation<Void, Never>) {
        self.continuations[id] = continuation
    }

    fileprivate mutating func remove(_ id: UInt64) -> CheckedContinuation<Void, Never>? {
        self.continuations.removeValue(forKey: id)
    }
}

extension Lock {
    /// Suspends the calling task until `isDone` holds for the value, or (when `cancellable`) the task is cancelled.
    ///
    /// `isDone` is checked under the lock when the task arrives; if it does not hold, the task joins `waiters` and
    /// stays suspended until someone takes it out with ``Waiters/removeAll()`` and resumes it (without checking
    /// `isDone` again: callers that need the condition check it themselves), or until the task is cancelled.
    ///
    /// - Parameters:
    ///   - waiters: Where in the value the waiting tasks are kept.
    ///   - cancellable: Whether cancelling the calling task ends the wait (the default); with `false`, it goes on.
    ///   - isDone: Whether there is nothing to wait for; runs under the lock.
    package borrowing func wait(
        in waiters: any WritableKeyPath<Value, Waiters> & Sendable,
        cancellable: Bool = true,
        until isDone: (borrowing Value) -> Bool
    ) async {
        let id = self.withLock { $0[keyPath: waiters].reserveID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.withLock { value in
                    // Checked under the lock: a cancellation handler that already ran found nothing to resume, and
                    // `Task.isCancelled` is set before the handler runs.
                    if isDone(value) || (cancellable && Task.isCancelled) { return true }
                    value[keyPath: waiters].add(id, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            guard cancellable else { return }
            let waiter = self.withLock { $0[keyPath: waiters].remove(id) }
            waiter?.resume()
        }
    }
}
