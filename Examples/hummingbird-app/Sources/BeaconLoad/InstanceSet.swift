// SPDX-License-Identifier: Apache-2.0

import Beacon
import ExampleSupport
import Logging
import Synchronization

/// The app instances the generator sends to: what the last snapshot of `/services/<service>/` listed, taken in turn
/// (round robin).
final class InstanceSet: Sendable {
    private struct State {
        var instances: [ServiceInstance] = []
        var next = 0
        var firstSnapshot = true
    }

    private let state = Mutex(State())
    private let report: LoadReport

    init(report: LoadReport) {
        self.report = report
    }

    /// The next instance in turn, or `nil` when none is registered.
    func next() -> ServiceInstance? {
        state.withLock { state in
            guard !state.instances.isEmpty else { return nil }
            defer { state.next &+= 1 }
            return state.instances[state.next % state.instances.count]
        }
    }

    /// The instances listed now.
    var current: [ServiceInstance] { state.withLock { $0.instances } }

    /// Follows the service's prefix until the task is cancelled: each snapshot replaces the set, and a change is
    /// reported with the moment it was seen. A failed watch is retried after half a second.
    func follow(_ source: any DiscoverySource, service: String, logger: Logger) async {
        let prefix = ServiceInstance.servicePrefix(service)
        while !Task.isCancelled {
            do {
                for try await snapshot in source.watch(prefix: prefix) {
                    var instances: [ServiceInstance] = []
                    for entry in snapshot.entries {
                        do {
                            instances.append(try ServiceInstance(decoding: entry))
                        } catch {
                            logger.info("not an instance; skipped", metadata: ["load.error": "\(error)"])
                        }
                    }
                    replace(with: instances.sorted { $0.id < $1.id })
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.info("watching the instances failed; retrying", metadata: ["load.error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    private func replace(with instances: [ServiceInstance]) {
        let seenAt = WallClock.now
        let (old, first) = state.withLock { state -> ([ServiceInstance], Bool) in
            defer {
                state.instances = instances
                state.firstSnapshot = false
            }
            return (state.instances, state.firstSnapshot)
        }
        guard first || old != instances else { return }
        let oldIDs = Set(old.map(\.id))
        let newIDs = Set(instances.map(\.id))
        report.instancesChanged(
            at: seenAt,
            ids: instances.map(\.id),
            added: first ? [] : instances.map(\.id).filter { !oldIDs.contains($0) },
            removed: old.map(\.id).filter { !newIDs.contains($0) },
            initial: first
        )
    }
}
