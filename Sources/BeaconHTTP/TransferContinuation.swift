// SPDX-License-Identifier: Apache-2.0

// How the engine resumes a task waiting for its transfer: checked in debug builds, where a second resumption or a
// lost one is reported; unchecked in release builds, where the check costs an allocation and atomic operations on
// every request. The engine resumes each transfer's continuation exactly once: it takes the continuation out of
// `CurlTransfer.completion` before resuming it.
#if DEBUG
typealias TransferContinuation<Value: Sendable> = CheckedContinuation<Value, any Error>
#else
typealias TransferContinuation<Value: Sendable> = UnsafeContinuation<Value, any Error>
#endif

/// Suspends the task until the engine resumes the continuation that `body` hands over.
///
/// - Parameters:
///   - isolation: The caller's isolation, kept across the suspension.
///   - body: Hands the continuation to the engine; called at once.
/// - Returns: The value the continuation was resumed with.
/// - Throws: The error the continuation was resumed with.
func withTransferContinuation<Value: Sendable>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TransferContinuation<Value>) -> Void
) async throws -> Value {
    #if DEBUG
    try await withCheckedThrowingContinuation(isolation: isolation, body)
    #else
    try await withUnsafeThrowingContinuation(isolation: isolation, body)
    #endif
}
