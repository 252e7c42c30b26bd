// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconContainer
import BeaconMemcached
import ServiceLifecycle

/// Records the memcached pool's servers whenever they change, for `/admin/state`.
struct PoolObserver: Service {
    let readiness: Readiness
    let state: AppState

    func run() async {
        await cancelWhenGracefulShutdown {
            while state.phase == .starting {
                try? await Task.sleep(for: .milliseconds(100))
                if Task.isCancelled { return }
            }
            guard let items = try? await readiness.container.get("app.items", as: ItemRepository.self) else { return }
            guard let pool = items.cache.pool as? DynamicMemcachedPool else {
                // Fixed wiring: the servers never change. Returning would end the group, so wait for shutdown.
                if let fixed = items.cache.pool as? MemcachedPool {
                    state.memcachedServers(fixed.servers.map(\.description), generation: 1)
                }
                try? await gracefulShutdown()
                return
            }
            while !Task.isCancelled {
                let count = pool.updateCount
                state.memcachedServers(
                    pool.currentPool?.servers.map(\.description) ?? [],
                    generation: pool.generation
                )
                await pool.waitForUpdate(after: count)
            }
        }
    }
}
