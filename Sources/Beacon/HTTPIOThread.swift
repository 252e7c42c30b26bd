// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// One I/O thread that several etcd and Consul clients share, instead of one thread each.
///
/// By default every etcd and Consul client (they talk HTTP through libcurl) starts a private I/O thread and stops it
/// when it is closed. An application with many such clients can create one
/// `HTTPIOThread` and give it to each client's configuration (`ioThread`); the clients then share its thread:
///
/// ```swift
/// let ioThread = HTTPIOThread()
/// defer { ioThread.shutdown() }  // after the clients are closed
/// var configuration = EtcdClient.Configuration(endpoints: ["http://10.0.0.1:2379"])
/// configuration.ioThread = ioThread
/// let orders = try EtcdClient(configuration: configuration)
/// let billing = try EtcdClient(configuration: configuration)
/// ```
///
/// Each client keeps its own libcurl multi handle, so its own timeouts, TLS settings, connection limits and idle
/// connections; the shared thread only waits for all of them at once (one `epoll` set holding each client's own)
/// and drives whichever has work. A task still sends its request itself when its client is free, exactly as with a
/// private thread: the shared thread costs a request nothing more than a private one, apart from the turns the
/// thread spends on the other clients.
///
/// Lifecycle: the application owns the object. Its thread starts with the first client that uses it and runs until
/// ``shutdown()``, or until the object is released (the application's reference and every client's configuration
/// gone), whichever comes first. Closing a client only takes that client off the thread. Shut the thread down after
/// its clients; shutting it down earlier fails their transfers in progress and their later requests with the
/// clients' `closed` error ("the client's shared I/O thread was shut down"), and never hangs or crashes. It is not a
/// `Service`: it has no work of its own to run, and a `ServiceGroup` would stop it before the clients that depend
/// on it finished their graceful shutdown, so the application shuts it down after the group's `run()` returns.
public final class HTTPIOThread: Sendable {
    private struct State {
        /// The thread and its clients, made by the first client (the HTTP layer knows how).
        var core: (any HTTPIOThreadCore)?
        var isShutDown = false
    }

    private let state = Lock(State())

    /// Creates the object; its thread starts with the first client that uses it.
    public init() {}

    deinit {
        self.shutdown()
    }

    /// Fails every transfer of the clients still using the thread, stops the thread and waits for it to exit.
    ///
    /// The clients' pending and later requests and watches throw their `closed` error. Calling it again does nothing;
    /// a call made while another is in progress returns at once. It blocks the calling thread for as long as the I/O
    /// thread needs to finish its current turn (normally well under a millisecond).
    public func shutdown() {
        let core = self.state.withLock { state -> (any HTTPIOThreadCore)? in
            state.isShutDown = true
            defer { state.core = nil }
            return state.core
        }
        core?.shutdown()
    }

    /// Whether ``shutdown()`` was called.
    public var isShutDown: Bool {
        self.state.withLock { $0.isShutDown }
    }

    /// The number of threads the object runs now: 1 from the first client on, 0 before and after ``shutdown()``.
    /// For tests and diagnostics.
    package var runningThreadCount: Int {
        self.state.withLock { $0.core?.runningThreadCount ?? 0 }
    }

    /// The running thread, started by `make` on first use.
    ///
    /// - Parameter make: Creates and starts the thread; called once, with the object's lock held.
    /// - Returns: The thread, or `nil` after ``shutdown()``.
    package func core<Core: HTTPIOThreadCore>(orMake make: () -> Core) -> Core? {
        self.state.withLock { state -> Core? in
            guard !state.isShutDown else { return nil }
            // One kind of core exists (BeaconHTTP's).
            if let core = state.core { return (core as! Core) }
            let core = make()
            state.core = core
            return core
        }
    }
}

/// The thread behind an ``HTTPIOThread``, implemented by the HTTP layer (which knows libcurl).
package protocol HTTPIOThreadCore: AnyObject, Sendable {
    /// Fails every client's transfers, stops the thread and waits for it to exit (or detaches it when called on it).
    func shutdown()

    /// The number of threads running: 1, or 0 once the thread exited.
    var runningThreadCount: Int { get }
}
