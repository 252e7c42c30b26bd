// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import ExampleSupport
import Logging
import Synchronization

/// Where the instance is in its life, for `/health` and `/admin/state`.
enum Phase: String, Sendable {
    /// The container cannot give the cache and the database yet.
    case starting
    /// Serving, and registered once the registration is written.
    case ready
    /// Deregistered; still serving for the drain delay, then the server stops.
    case draining
}

/// What the instance knows about itself: its phase, its registration, and what its memcached pool follows.
final class AppState: Sendable {
    struct Snapshot: Sendable {
        var phase: Phase
        var registeredAt: Double?
        var deregisteredAt: Double?
        var memcachedServers: [String]
        var memcachedChangedAt: Double?
        var memcachedGeneration: Int
    }

    let configuration: AppConfiguration
    private let state = Mutex(
        Snapshot(phase: .starting, memcachedServers: [], memcachedGeneration: 0)
    )

    init(configuration: AppConfiguration) {
        self.configuration = configuration
    }

    var snapshot: Snapshot { state.withLock { $0 } }
    var phase: Phase { state.withLock { $0.phase } }

    func becomeReady() {
        state.withLock { if $0.phase == .starting { $0.phase = .ready } }
    }

    func registered() {
        state.withLock { $0.registeredAt = WallClock.now }
    }

    func beginDraining() {
        state.withLock {
            $0.phase = .draining
            $0.deregisteredAt = WallClock.now
        }
    }

    func memcachedServers(_ servers: [String], generation: Int) {
        state.withLock { state in
            if state.memcachedGeneration != generation {
                state.memcachedChangedAt = WallClock.now
            }
            state.memcachedServers = servers
            state.memcachedGeneration = generation
        }
    }
}

/// Answers whether the instance can serve: the container gives `app.items` (so the memcached pool has servers and the
/// database pool exists) and the items table is there.
struct Readiness: Sendable {
    let container: Container
    let logger: Logger

    /// Tries once.
    ///
    /// - Returns: `nil` when ready, else why not.
    func check() async -> String? {
        do {
            let items = try await container.get("app.items", as: ItemRepository.self)
            try await items.store.ensureSchema()
            return nil
        } catch {
            return "\(error)"
        }
    }
}
