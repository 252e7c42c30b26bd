// SPDX-License-Identifier: Apache-2.0

import Beacon
public import ServiceLifecycle

extension ConsulClient: Service {
    /// Passes the TTL checks of the client's registrations until graceful shutdown or cancellation, then deregisters
    /// them and closes the client.
    ///
    /// Run it in the application's `ServiceGroup` for as long as the client is used:
    ///
    /// ```swift
    /// let group = ServiceGroup(services: [consul, ...], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    ///
    /// Each registration made through ``register(_:ttl:)`` (before or while `run()` runs) is kept by a child task of
    /// `run()`. `run()` returns only when the application shuts down gracefully, when its task is cancelled, or when
    /// ``close()`` is called. It then stops accepting registrations (``register(_:ttl:)`` throws
    /// ``ConsulError/Code/closed``), deregisters those still live, so they disappear at once (these requests go on
    /// even when the task is cancelled, each bounded by ``Configuration/requestTimeout``), and closes the client as
    /// ``close()`` does.
    ///
    /// `run()` may be called once: a second call is a programming error and stops the process.
    public func run() async {
        switch self.lifecycle.start() {
        case .started: break
        case .closed: return
        case .alreadyStarted: preconditionFailure("ConsulClient.run() may be called only once")
        }
        await cancelWhenGracefulShutdown {
            // Ends when the task is cancelled (graceful shutdown included) or close() finishes the stream.
            await self.lifecycle.keepAll()
        }
        await self.lifecycle.withdrawAll()
        self.close()
    }
}
