// SPDX-License-Identifier: Apache-2.0

/// Several registrations kept alive and withdrawn as one, for registries whose keep-alive cannot be shared (a Consul
/// TTL check per agent service; a ZooKeeper ephemeral node, which shares the session anyway).
///
/// The group is what the registry's ``KeepAliveLifecycle`` holds: its ``renew()`` runs the members' renewals as
/// children of the group's keep-alive, so they stop together; its ``release()`` releases every member concurrently.
/// The members themselves are never added to the lifecycle.
package final class KeptAliveGroup: KeptAliveRegistration {
    package let keepAliveState = KeepAliveState()
    /// The members, in the order of the group's instances.
    package let members: [any KeptAliveRegistration]
    private let lifecycle: KeepAliveLifecycle

    /// Creates a group of registrations already written to the store.
    ///
    /// - Parameters:
    ///   - members: The members; none may be added to `lifecycle` on its own.
    ///   - lifecycle: The registry's lifecycle, from which ``release()`` removes the group.
    package init(members: [any KeptAliveRegistration], lifecycle: KeepAliveLifecycle) {
        self.members = members
        self.lifecycle = lifecycle
    }

    /// Runs every member's renewal until the calling task is cancelled.
    package func renew() async {
        await withDiscardingTaskGroup { group in
            for member in self.members {
                group.addTask { await member.renew() }
            }
        }
    }

    /// Releases every member concurrently (each goes on if the calling task is cancelled), then forgets the group.
    package func release() async {
        await Self.release(self.members)
        self.lifecycle.remove(self)
    }

    /// Releases registrations concurrently: the clean-up of a group whose registration failed part-way.
    ///
    /// - Parameter members: Registrations written to the store, not added to a lifecycle.
    package static func release(_ members: [any KeptAliveRegistration]) async {
        await withDiscardingTaskGroup { group in
            for member in members {
                group.addTask { await member.release() }
            }
        }
    }
}
