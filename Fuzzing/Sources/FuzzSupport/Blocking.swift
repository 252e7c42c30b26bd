// SPDX-License-Identifier: Apache-2.0

import Dispatch

/// Runs async work to its end from libFuzzer's synchronous callback.
///
/// The callback runs on the process's main thread, outside Swift concurrency's pool, so waiting there for a
/// task blocks no task.
///
/// - Parameter body: The work.
public func runBlocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}
