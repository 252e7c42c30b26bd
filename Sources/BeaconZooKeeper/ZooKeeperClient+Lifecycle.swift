// SPDX-License-Identifier: Apache-2.0

import Logging
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
            for await generation in self.session.renewals {
                await self.recreateEphemerals(upTo: generation)
            }
        }
        let live = self.lifecycle.finish()
        await withDiscardingTaskGroup { group in
            for node in live {
                guard let path = node.created?.path else { continue }
                group.addTask {
                    _ = try? await self.delete(path, expectedVersion: nil, ignoringCancellation: true)
                }
            }
        }
        await self.close()
    }

    /// Creates again, in the current session, every kept node created in an earlier one.
    private func recreateEphemerals(upTo generation: Int) async {
        let stale = self.lifecycle.live.filter { ($0.created?.generation ?? -1) < generation }
        guard !stale.isEmpty else { return }
        self.logger.info(
            "re-creating ephemeral nodes after a session expiry",
            metadata: ["zookeeper.nodes": "\(stale.count)", "zookeeper.ensemble": "\(self.session.target)"]
        )
        await withDiscardingTaskGroup { group in
            for node in stale {
                group.addTask { await self.recreate(node) }
            }
        }
    }

    /// Creates one node again, retrying until it succeeds, the node is withdrawn or the task is cancelled.
    private func recreate(_ node: EphemeralNode) async {
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled && self.lifecycle.contains(node) {
            do {
                try await self.createEphemeral(node)
                if !self.lifecycle.contains(node), let path = node.created?.path {
                    // Withdrawn while being created: take it away again.
                    _ = try? await self.delete(path, expectedVersion: nil, ignoringCancellation: true)
                }
                self.logger.debug(
                    "re-created \(node.label)",
                    metadata: ["zookeeper.path": "\(node.created?.path ?? "")"]
                )
                return
            } catch {
                self.logger.warning(
                    "could not re-create \(node.label); retrying",
                    metadata: ["error": "\(error)", "zookeeper.retryIn": "\(delay)"]
                )
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
