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

/// Starts a short-lived detached thread outside Swift's cooperative pool, for one piece of work that blocks: a file
/// write and its `fsync`, libpq's blocking `PQcancel`. The thread runs the work and ends; nobody joins it.
package enum DetachedThread {
    /// The work, kept alive for the thread until it starts. Not `Sendable`: it is handed over once, through
    /// `pthread_create`, and only the new thread uses it from then on.
    private final class Body {
        let name: String?
        let run: () -> Void

        init(name: String?, _ run: @escaping () -> Void) {
            self.name = name
            self.run = run
        }
    }

    /// Starts a thread that runs `body` and ends.
    ///
    /// - Parameters:
    ///   - name: The thread's name, as `/proc/self/task/*/comm` and debuggers show it (see ``nameCurrentThread(_:)``),
    ///     or `nil` to keep the process's name.
    ///   - stackSize: The thread's stack size in bytes, or `nil` for the system's default.
    ///   - body: The thread's work, handed over to it.
    /// - Returns: `false` when no thread could be started (`body` is then released without running).
    package static func start(
        name: String? = nil,
        stackSize: Int? = nil,
        _ body: sending @escaping () -> Void
    ) -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize {
            pthread_attr_setstacksize(&attributes, stackSize)
        }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
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
                DetachedThread.enter(context)
                return nil
            },
            context.toOpaque()
        )
        guard result == 0 else {
            context.release()
            return false
        }
        return true
    }

    /// The thread's entry: takes the body that ``start(name:stackSize:_:)`` retained and runs it. (Taking an optional
    /// pointer lets one closure fit both the Glibc and the Darwin signature of `pthread_create`.)
    private static func enter(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
        if let name = body.name { Self.nameCurrentThread(name) }
        body.run()
    }

    /// Names the calling thread, so that `/proc/self/task/*/comm`, `top -H` and debuggers tell Beacon's threads apart.
    ///
    /// Every Beacon thread has a name starting with `beacon-`. Linux keeps at most 15 bytes of it and refuses a longer
    /// one, which then leaves the thread with the process's name.
    ///
    /// - Parameter name: The name, at most 15 bytes.
    package static func nameCurrentThread(_ name: String) {
        _ = cbeacon_set_thread_name(name)
    }
}
