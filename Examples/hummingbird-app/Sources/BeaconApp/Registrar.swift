// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconRegister
import Logging
import ServiceLifecycle

/// Registers the instance once it is ready, and drains it on shutdown, with Beacon's `RegistrationWatchdog`.
///
/// The watchdog's check is the app's readiness: the container gives the cache and the database. Once ready, the
/// instance stays ready (a database that fails over later is the pool's business, not a reason to withdraw), so the
/// check passes from then on and the watchdog keeps the registration until shutdown; while etcd cannot be reached it
/// retries every second.
///
/// It is the last service of the app's `ServiceGroup`, so it is the first to hear of a graceful shutdown (SIGTERM):
/// the watchdog deregisters at once (the key disappears from etcd, and clients watching the service prefix stop
/// choosing this instance), keeps the server serving for the drain delay, then returns; only then does the group shut
/// the HTTP server down, which stops accepting connections and finishes the requests in flight. This service mirrors
/// the watchdog's state into ``AppState`` for `/health` and `/admin/state`.
struct Registrar: Service {
    let watchdog: RegistrationWatchdog
    let state: AppState

    init(registry: any ServiceRegistry, readiness: Readiness, state: AppState, logger: Logger) {
        let configuration = state.configuration
        var watchdogConfiguration = RegistrationWatchdog.Configuration()
        watchdogConfiguration.interval = .milliseconds(250)
        // Building the pools and creating the table may take a while on a busy machine.
        watchdogConfiguration.checkTimeout = .seconds(30)
        watchdogConfiguration.ttl = configuration.registrationTTL
        watchdogConfiguration.retryDelay = .seconds(1)
        watchdogConfiguration.maximumRetryDelay = .seconds(1)
        watchdogConfiguration.drainDelay = configuration.drainDelay
        let check = HealthCheck.custom("readiness") {
            guard state.phase == .starting else { return }
            if let reason = await readiness.check() { throw NotReady(reason: reason) }
            state.becomeReady()
        }
        var logger = logger
        logger[metadataKey: "app.instance"] = "\(configuration.instance)"
        self.watchdog = RegistrationWatchdog(
            check: check,
            target: .instance(configuration.instance, in: registry),
            configuration: watchdogConfiguration,
            logger: logger
        )
        self.state = state
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Ends after the watchdog's run() returned.
                for await update in watchdog.stateUpdates() {
                    if update == .registered {
                        state.registered()
                    } else if update == .stopping {
                        state.beginDraining()
                    }
                }
            }
            await watchdog.run()
        }
    }
}

/// Why the instance is not ready yet, as the readiness check found it.
struct NotReady: Error, CustomStringConvertible {
    var reason: String
    var description: String { "not ready yet: \(self.reason)" }
}
