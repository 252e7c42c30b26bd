// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a detached thread outside Swift's cooperative pool, for work that blocks (file writes and `fsync`).
enum DetachedThread {
    /// No thread could be started (`pthread_create` failed).
    struct StartFailure: Error, CustomStringConvertible {
        var description: String { "no thread could be started to write the file" }
    }

    /// The body, retained for the thread until it starts.
    private final class Body: Sendable {
        let run: @Sendable () -> Void

        init(_ run: @escaping @Sendable () -> Void) {
            self.run = run
        }
    }

    /// Starts a thread that runs `body` and ends.
    ///
    /// - Parameter body: The thread's work.
    /// - Returns: `false` when no thread could be started (`body` is then released without running).
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let context = Unmanaged.passRetained(Body(body))
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(
            &thread,
            nil,
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
        #if canImport(Darwin)
        if let thread { pthread_detach(thread) }
        #else
        pthread_detach(thread)
        #endif
        return true
    }

    /// The thread's entry: takes the body that ``start(_:)`` retained and runs it. (Taking an optional pointer lets
    /// one closure fit both the Glibc and the Darwin signature of `pthread_create`.)
    private static func enter(_ context: UnsafeMutableRawPointer?) {
        guard let context else { return }
        Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
    }
}
