// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `container` object of the expression evaluation running on this thread, for expressions evaluated
/// without variables: `service()`, `parameter()` and `env()` find their container here instead of in a
/// variables dictionary that would be built and hashed for every evaluation.
///
/// A thread-specific value is enough because an evaluation is synchronous: ``with(_:_:)`` sets it, runs the
/// evaluation, and restores the previous value, with no suspension point in between, so nothing else runs on
/// the thread meanwhile and every read comes from a function the evaluation called.
enum CurrentEvaluation {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    /// Runs `body`, a synchronous evaluation, with `context` as the thread's current one.
    static func with<R>(_ context: ContainerExpressionObject, _ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(context).toOpaque())
        defer { pthread_setspecific(key, previous) }
        return try withExtendedLifetime(context) { try body() }
    }

    /// The context of the evaluation running on this thread, if any.
    ///
    /// The stored address is valid while it is stored: ``with(_:_:)`` keeps the object alive until it has put
    /// the previous value back.
    static var context: ContainerExpressionObject? {
        guard let address = pthread_getspecific(key) else { return nil }
        return Unmanaged<ContainerExpressionObject>.fromOpaque(address).takeUnretainedValue()
    }
}
