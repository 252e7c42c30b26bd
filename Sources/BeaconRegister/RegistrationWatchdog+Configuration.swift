// SPDX-License-Identifier: Apache-2.0

public import Beacon

extension RegistrationWatchdog {
    /// How often a ``RegistrationWatchdog`` checks, how patient it is, and how long a registration outlives a crash.
    ///
    /// Every property has a default, so `Configuration()` is a working configuration.
    public struct Configuration: Sendable {
        /// The time between the end of one check and the start of the next. Default: 5 seconds.
        public var interval: Duration

        /// How long one check may take before it counts as failed (``HealthCheckError/Code/timedOut``).
        /// Default: 2 seconds.
        public var checkTimeout: Duration

        /// After how many consecutive failed checks the registration is withdrawn. Default: 3; values below 1
        /// count as 1.
        ///
        /// A single passing check registers the instance (again); withdrawing needs this many failures in a row, so a
        /// lone slow answer does not flap the registration.
        public var failureThreshold: Int

        /// How long the registry keeps the registration after the watchdog stops renewing it: the bound on how long
        /// the entry of a process killed with SIGKILL (or stalled, or cut off) survives. etcd uses whole seconds, at
        /// least one. Default: 10 seconds.
        public var ttl: Duration

        /// The wait before trying again after a registration failed (the registry could not be reached); doubled on
        /// each failure in a row up to ``maximumRetryDelay``. Attempts happen only on passing checks. Default:
        /// 1 second.
        public var retryDelay: Duration

        /// The longest wait between registration attempts. Default: 30 seconds.
        public var maximumRetryDelay: Duration

        /// After withdrawing on graceful shutdown, how long ``RegistrationWatchdog/run()`` waits before it returns.
        /// Default: zero.
        ///
        /// A watchdog inside the app it announces runs as the last service of the `ServiceGroup`, so that it is the
        /// first to hear of the shutdown: the delay keeps the services before it (the HTTP server) serving while
        /// clients notice that the instance is gone. Cancellation does not wait.
        public var drainDelay: Duration

        /// The I/O thread an HTTP check's client runs on, shared with other clients (etcd, Consul, other watchdogs);
        /// `nil` (the default) gives the check a thread of its own while ``RegistrationWatchdog/run()`` runs. The
        /// application shuts a shared thread down after the watchdog's `run()` has returned.
        public var ioThread: HTTPIOThread?

        /// A configuration with every default.
        public init() {
            self.interval = .seconds(5)
            self.checkTimeout = .seconds(2)
            self.failureThreshold = 3
            self.ttl = .seconds(10)
            self.retryDelay = .seconds(1)
            self.maximumRetryDelay = .seconds(30)
            self.drainDelay = .zero
            self.ioThread = nil
        }
    }
}
