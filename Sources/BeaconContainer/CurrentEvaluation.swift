// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// The evaluation running on this thread, for expressions evaluated without variables: `service()`,
/// `parameter()` and `env()` find their container and resolved services here instead of in a `container` object
/// passed in a variables dictionary, two allocations and a hashed lookup per evaluation.
///
/// A thread-specific value is enough because an evaluation is synchronous: ``with(_:_:)`` stores the address of
/// the caller's ``ContainerEvaluation``, runs the evaluation, and restores the previous value, with no
/// suspension point in between, so nothing else runs on the thread meanwhile and every read comes from a
/// function the evaluation called, while the address is valid.
enum CurrentEvaluation {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    /// Runs `body`, a synchronous evaluation, with `evaluation` as the thread's current one.
    static func with<R>(_ evaluation: inout ContainerEvaluation, _ body: () throws -> R) rethrows -> R {
        try withUnsafeMutablePointer(to: &evaluation) { pointer in
            let previous = pthread_getspecific(key)
            pthread_setspecific(key, pointer)
            defer { pthread_setspecific(key, previous) }
            return try body()
        }
    }

    /// The evaluation running on this thread, if any: valid until the function that asked returns.
    static var evaluation: UnsafeMutablePointer<ContainerEvaluation>? {
        pthread_getspecific(key)?.assumingMemoryBound(to: ContainerEvaluation.self)
    }
}
