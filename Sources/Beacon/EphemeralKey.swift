// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A key written by ``EphemeralKeyStore/putEphemeral(_:value:ttl:)`` and kept alive by its store.
///
/// The store keeps the key until ``cancel()`` is called. Cancelling removes the key at once and stops any keep-alive
/// work; calling it again does nothing.
public final class EphemeralKey: Sendable, CustomStringConvertible {
    /// The key.
    public let key: String

    private let remove: Mutex<(@Sendable () async -> Void)?>

    /// Creates a handle; stores call this.
    ///
    /// - Parameters:
    ///   - key: The key that was written.
    ///   - remove: Removes the key and stops keeping it alive; called at most once.
    public init(key: String, remove: @escaping @Sendable () async -> Void) {
        self.key = key
        self.remove = Mutex(remove)
    }

    /// `true` once ``cancel()`` has been called.
    public var isCancelled: Bool { self.remove.withLock { $0 == nil } }

    /// Removes the key and stops keeping it alive.
    ///
    /// Safe to call more than once and from several tasks: only the first call does the work, and it completes even
    /// if the calling task is cancelled.
    public func cancel() async {
        let remove = self.remove.withLock { stored in
            let current = stored
            stored = nil
            return current
        }
        await remove?()
    }

    /// `ephemeral key /test/apache-8001` (the value is left out).
    public var description: String { "ephemeral key \(self.key)" }
}
