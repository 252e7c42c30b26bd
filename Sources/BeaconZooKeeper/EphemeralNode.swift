// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Logging

/// An ephemeral node the client keeps: a registration or an ephemeral key.
///
/// ZooKeeper keeps an ephemeral node alive for as long as the session lives, so the keep-alive (a child task of
/// ``ZooKeeperClient/run()``) has work only when the session expires: it then creates the node again in the new
/// session, retrying until it succeeds. The node is deleted once, by the handle's `cancel()` or at the end of
/// `run()` (the choreography of `KeptAliveRegistration`).
final class EphemeralNode: KeptAliveRegistration {
    let keepAliveState = KeepAliveState()
    private let client: ZooKeeperClient
    /// The path asked for; for a sequential node, the prefix of its name.
    let requestedPath: String
    let data: [UInt8]
    let isSequential: Bool
    /// What the node is, for logs: `registration of web/a at 10.0.0.1:80` or `ephemeral key /test/a`.
    let label: String
    private let current = Lock<(path: String, generation: Int)?>(nil)

    init(client: ZooKeeperClient, path: String, data: [UInt8], isSequential: Bool, label: String) {
        self.client = client
        self.requestedPath = path
        self.data = data
        self.isSequential = isSequential
        self.label = label
    }

    /// The node's actual path (with its sequence number) and the session generation it was created in; `nil` before
    /// it was first created.
    var created: (path: String, generation: Int)? {
        self.current.withLock { $0 }
    }

    /// Creates the node in the current session.
    ///
    /// A node that already exists counts as created when the current session owns it: a create whose answer was lost
    /// with the connection, sent again. Owned by another session, it is an error.
    func create() async throws {
        let generation = self.client.session.generation
        let mode: ZooKeeperClient.CreateMode = self.isSequential ? .ephemeralSequential : .ephemeral
        do {
            let created = try await self.client.createNode(
                self.requestedPath,
                data: self.data,
                mode: mode,
                makeParents: true,
                ignoringCancellation: true
            )
            self.current.withLock { $0 = (created.path, generation) }
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            let owner = try await self.client.exists(self.requestedPath)?.ephemeralOwner
            guard let owner, owner == self.client.session.sessionCredentials?.id else {
                throw ZooKeeperError(
                    .nodeExists,
                    "the node is held by another session (0x\(String(owner ?? 0, radix: 16)))",
                    operation: "create",
                    path: self.requestedPath,
                    target: self.client.session.target,
                    returnCode: error.returnCode
                )
            }
            self.current.withLock { $0 = (self.requestedPath, generation) }
        }
    }

    /// Creates the node again after each session expiry, until cancelled.
    func renew() async {
        while !Task.isCancelled {
            await self.client.session.waitForRenewal(after: self.created?.generation ?? -1)
            if Task.isCancelled || self.client.session.isClosed { return }
            self.client.logger.info(
                "re-creating \(self.label) after a session expiry",
                metadata: ["zookeeper.ensemble": "\(self.client.session.target)"]
            )
            var delay = Duration.milliseconds(200)
            while !Task.isCancelled {
                do {
                    try await self.create()
                    self.client.logger.debug(
                        "re-created \(self.label)",
                        metadata: ["zookeeper.path": "\(self.created?.path ?? "")"]
                    )
                    break
                } catch {
                    self.client.logger.warning(
                        "could not re-create \(self.label); retrying",
                        metadata: ["error": "\(error)", "zookeeper.retryIn": "\(delay)"]
                    )
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
        }
    }

    /// Deletes the node (even if the calling task is cancelled) and forgets it.
    func release() async {
        if let path = self.created?.path {
            do {
                _ = try await self.client.delete(path, expectedVersion: nil, ignoringCancellation: true)
            } catch {
                // Closed or unreachable: the node goes with the session.
                self.client.logger.debug(
                    "could not delete an ephemeral node; it disappears with the session",
                    metadata: ["zookeeper.path": "\(path)", "error": "\(error)"]
                )
            }
        }
        self.client.lifecycle.remove(self)
    }
}
