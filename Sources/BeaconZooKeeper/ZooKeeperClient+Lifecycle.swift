// SPDX-License-Identifier: Apache-2.0

import Beacon
public import ServiceLifecycle

extension ZooKeeperClient: Service {
    /// Re-creates the client's ephemeral nodes after each session expiry until graceful shutdown or cancellation,
    /// then deletes them and closes the client.
    ///
    /// Run it in the application's `ServiceGroup` for as long as the client is used:
    ///
    /// ```swift
    /// let group = ServiceGroup(services: [zookeeper, ...], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    ///
    /// ZooKeeper keeps ephemeral nodes alive by itself for as long as the session lives, so `run()` has work only when
    /// the session expires: it then creates every registration and ephemeral key again in the new session (retrying
    /// each until it succeeds). `run()` returns only when the application shuts down gracefully, when its task is
    /// cancelled, or when ``close()`` is called. It then stops accepting registrations (``register(_:ttl:)`` throws
    /// ``ZooKeeperError/Code/closed``), deletes the nodes still live (even when the task is cancelled, each bounded
    /// by ``Configuration/requestTimeout``), and closes the client as ``close()`` does.
    ///
    /// `run()` may be called once: a second call is a programming error and stops the process.
    public func run() async {
        switch self.lifecycle.start() {
        case .started: break
        case .closed: return
        case .alreadyStarted: preconditionFailure("ZooKeeperClient.run() may be called only once")
        }
        await cancelWhenGracefulShutdown {
            // Ends when the task is cancelled (graceful shutdown included) or close() finishes the stream.
            await self.lifecycle.keepAll()
        }
        await self.lifecycle.withdrawAll()
        await self.close()
    }
}
