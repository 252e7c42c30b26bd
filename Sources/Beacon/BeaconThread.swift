// SPDX-License-Identifier: Apache-2.0

import CBeaconSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The one way Beacon starts a thread of its own, outside Swift's cooperative pool (Documentation/Threading.md lists
/// them all).
///
/// - ``detach(name:stackSize:_:)``: a thread nobody waits for, for one piece of work that blocks (a file write and
///   its `fsync`, libpq's blocking `PQcancel`, `zookeeper_close`) or for workers that end when their queue closes.
/// - ``run(name:_:)``: ``detach(name:stackSize:_:)`` for one blocking call whose result a task awaits
///   (`zookeeper_close`, starting a confd command).
/// - ``start(name:_:)``: a thread its owner stops and then joins with ``Joinable/join()`` (an HTTP I/O thread).
///
/// Every thread is named (`beacon-…`), so that `/proc/self/task/*/comm`, `top -H` and debuggers tell them apart.
package enum BeaconThread {
    /// A thread started by ``BeaconThread/start(name:_:)``, until it is joined.
    package struct Joinable {
        private let thread: pthread_t

        fileprivate init(_ thread: pthread_t) {
            self.thread = thread
        }

        /// Waits until the thread has ended; called on the thread itself (its owner stopped from its own body), lets
        /// it end on its own instead.
        package func join() {
            if pthread_equal(self.thread, pthread_self()) != 0 {
                pthread_detach(self.thread)
            } else {
                pthread_join(self.thread, nil)
            }
        }
    }

    /// The work, kept alive for the thread until it starts. Not `Sendable`: it is handed over once, through
    /// `pthread_create`, and only the new thread uses it from then on.
    private final class Body {
        let name: String
        let run: () -> Void

        init(name: String, _ run: @escaping () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts a detached thread that runs `body` and ends.
    ///
    /// - Parameters:
    ///   - name: The thread's name: `beacon-` and a word, 15 bytes at most (Linux refuses a longer one).
    ///   - stackSize: The thread's stack size in bytes, or `nil` for the system's default.
    ///   - body: The thread's work, handed over to it.
    /// - Returns: `false` when no thread could be started (`body` is then released without running).
    package static func detach(
        name: String,
        stackSize: Int? = nil,
        _ body: sending @escaping () -> Void
    ) -> Bool {
        Self.create(name: name, stackSize: stackSize, detached: true, body) != nil
    }

    /// Runs one blocking call on a detached thread and waits for its result without holding the calling thread (a
    /// task's thread of the cooperative pool, typically); when no thread can be started, runs it on the calling
    /// thread instead, blocking it for as long as the call takes.
    ///
    /// - Parameters:
    ///   - name: The thread's name, as for ``detach(name:stackSize:_:)``.
    ///   - body: The blocking call.
    /// - Returns: What `body` returned.
    package static func run<Value: Sendable>(
        name: String,
        _ body: @escaping @Sendable () -> Value
    ) async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            if !Self.detach(name: name, { continuation.resume(returning: body()) }) {
                continuation.resume(returning: body())
            }
        }
    }

    /// Starts a thread that runs `body`, for its owner to join once it has told `body` to return.
    ///
    /// A long-lived thread is part of its owner's working order: when none can be started, the process stops, as
    /// it does when memory runs out.
    ///
    /// - Parameters:
    ///   - name: The thread's name: `beacon-` and a word, 15 bytes at most (Linux refuses a longer one).
    ///   - body: The thread's work, handed over to it.
    /// - Returns: The thread, to be joined.
    package static func start(name: String, _ body: sending @escaping () -> Void) -> Joinable {
        guard let thread = Self.create(name: name, stackSize: nil, detached: false, body) else {
            fatalError("no thread could be started for \(name)")
        }
        return Joinable(thread)
    }

    private static func create(
        name: String,
        stackSize: Int?,
        detached: Bool,
        _ body: sending @escaping () -> Void
    ) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize {
            pthread_attr_setstacksize(&attributes, stackSize)
        }
        pthread_attr_setdetachstate(
            &attributes,
            Int32(detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE)
        )
        let context = Unmanaged.passRetained(Body(name: name, body))
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(
            &thread,
            &attributes,
            { context in
                BeaconThread.enter(context)
                return nil
            },
            context.toOpaque()
        )
        guard result == 0 else {
            context.release()
            return nil
        }
        return thread
    }

    /// The thread's entry: takes the body that ``create(name:stackSize:detached:_:)`` retained and runs it. (Taking
    /// an optional pointer lets one closure fit both the Glibc and the Darwin signature of `pthread_create`.)
    private static func enter(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
        Self.nameCurrentThread(body.name)
        body.run()
    }

    /// Names the calling thread, so that `/proc/self/task/*/comm`, `top -H` and debuggers tell Beacon's threads apart.
    ///
    /// Every Beacon thread has a name starting with `beacon-`. Linux keeps at most 15 bytes of it and refuses a longer
    /// one, which then leaves the thread with the process's name.
    ///
    /// - Parameter name: The name, at most 15 bytes.
    private static func nameCurrentThread(_ name: String) {
        _ = cbeacon_set_thread_name(name)
    }
}
