// SPDX-License-Identifier: Apache-2.0

/// A key written by ``EphemeralKeyStore/putEphemeral(_:value:ttl:)`` and kept alive by its store.
///
/// The store keeps the key until ``cancel()`` is called. Cancelling removes the key at once and stops any keep-alive
/// work; calling it again does nothing.
public final class EphemeralKey: Sendable, CustomStringConvertible {
    /// The key.
    public let key: String

    private let remove: OnceAction

    /// Creates a handle; stores call this.
    ///
    /// - Parameters:
    ///   - key: The key that was written.
    ///   - remove: Removes the key and stops keeping it alive; called at most once.
    public init(key: String, remove: @escaping @Sendable () async -> Void) {
        self.key = key
        self.remove = OnceAction(remove)
    }

    /// `true` once ``cancel()`` has been called.
    public var isCancelled: Bool { self.remove.hasRun }

    /// Removes the key and stops keeping it alive.
    ///
    /// Safe to call more than once and from several tasks: only the first call does the work, and it completes even
    /// if the calling task is cancelled.
    public func cancel() async {
        await self.remove.run()
    }

    /// `ephemeral key /test/apache-8001` (the value is left out).
    public var description: String { "ephemeral key \(self.key)" }
}
