// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
package import Glibc
#elseif canImport(Musl)
package import Musl
#else
#error("unsupported platform: the loopback test servers run on Linux")
#endif

/// Starts the joinable thread a loopback test server serves on; its owner joins it when it stops.
package enum ServeThread {
    /// The body, kept alive for the thread until it starts; handed over once, through `pthread_create`.
    private final class Body {
        let run: () -> Void

        init(_ run: @escaping () -> Void) {
            self.run = run
        }
    }

    /// Starts a thread that runs `body`.
    ///
    /// - Returns: The thread, to join, or what `pthread_create` returned when it failed (`body` is then released
    ///   without running).
    package static func start(_ body: sending @escaping () -> Void) -> Result<pthread_t, ServeThreadFailure> {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Body(body))
        let result = pthread_create(
            &thread,
            nil,
            { context in
                Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            },
            context.toOpaque()
        )
        guard result == 0 else {
            context.release()
            return .failure(ServeThreadFailure(result: result))
        }
        return .success(thread)
    }
}

/// No thread could be started for a loopback test server.
package struct ServeThreadFailure: Error {
    /// What `pthread_create` returned.
    package var result: Int32
}
