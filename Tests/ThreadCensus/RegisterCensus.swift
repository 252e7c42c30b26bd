// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconRegister

/// Registration watchdogs with an HTTP check (an HTTP client of its own while it runs, or one on a shared I/O thread)
/// and with a TCP check (a short-lived thread per check), each registering in a `StaticSource` until it is registered.
enum RegisterCensus {
    static func run(_ environment: TestEnvironment, baseline: Threads) async throws {
        let registry = StaticSource()
        var configuration = RegistrationWatchdog.Configuration()
        configuration.interval = .milliseconds(20)
        configuration.drainDelay = .zero
        let ioThread = HTTPIOThread()
        let checks: [(String, HealthCheck, HTTPIOThread?)] = [
            ("http", .http(environment.etcd + "/version"), nil),
            ("http on a shared I/O thread", .http(environment.etcd + "/version"), ioThread),
            ("tcp", .tcp(environment.memcached[0]), nil),
        ]
        for (name, check, sharedThread) in checks {
            configuration.ioThread = sharedThread
            let watchdog = RegistrationWatchdog(
                check: check,
                target: .instance(
                    ServiceInstance(
                        service: "thread-census",
                        id: "census-\(name.split(separator: " ")[0])",
                        endpoint: Endpoint(host: "127.0.0.1", port: 9)
                    ),
                    in: registry
                ),
                configuration: configuration
            )
            try await whileRunning(watchdog) {
                for await state in watchdog.stateUpdates() where state.isRegistered { break }
                // A few more checks after the registration.
                try await Task.sleep(for: .milliseconds(100))
                print("registration watchdog, \(name) check: \(Threads.current().added(since: baseline))")
            }
        }
        ioThread.shutdown()
    }
}
