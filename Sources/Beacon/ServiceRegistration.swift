// SPDX-License-Identifier: Apache-2.0

/// A live registration of a ``ServiceInstance``, returned by ``ServiceRegistry/register(_:ttl:)``.
///
/// The registry keeps the instance registered until ``cancel()`` is called. Cancelling withdraws the
/// instance from discovery at once and stops any keep-alive work; calling it again does nothing.
public final class ServiceRegistration: Sendable, CustomStringConvertible {
    /// The registered instance.
    public let instance: ServiceInstance

    private let withdraw: OnceAction

    /// Creates a registration; registries call this.
    ///
    /// - Parameters:
    ///   - instance: The registered instance.
    ///   - withdraw: Removes the instance and stops keeping it alive; called at most once.
    public init(instance: ServiceInstance, withdraw: @escaping @Sendable () async -> Void) {
        self.instance = instance
        self.withdraw = OnceAction(withdraw)
    }

    /// `true` once ``cancel()`` has been called.
    public var isCancelled: Bool { self.withdraw.hasRun }

    /// Withdraws the instance from discovery and stops keeping it alive.
    ///
    /// Safe to call more than once and from several tasks: only the first call does the work, and it
    /// completes even if the calling task is cancelled.
    public func cancel() async {
        await self.withdraw.run()
    }

    /// `registration of service/id at endpoint`.
    public var description: String { "registration of \(self.instance)" }
}
