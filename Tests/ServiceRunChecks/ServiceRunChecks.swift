// SPDX-License-Identifier: Apache-2.0

public import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
public import Testing

/// Checks a service's `run()`: it keeps running until graceful shutdown or cancellation, and returns then.
public enum ServiceRunChecks {
    /// How a test stops `run()`.
    public enum Stop: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Through ServiceLifecycleTestKit's graceful shutdown.
        case gracefulShutdown = "graceful shutdown"
        /// By cancelling `run()`'s task.
        case cancellation = "cancellation"

        /// The stop's name, for messages.
        public var description: String { self.rawValue }
    }

    /// Set when `run()` returns.
    public final class Returned: Sendable {
        private let flag = Atomic<Bool>(false)

        /// Creates an unset flag.
        public init() {}
        /// Whether `run()` returned.
        public var value: Bool { self.flag.load(ordering: .acquiring) }
        /// Records that `run()` returned.
        public func set() { self.flag.store(true, ordering: .releasing) }
    }

    /// How long `run()` must still be running after `whileRunning` before the stop is triggered. A `run()` that
    /// returns early is caught however fast the machine is; a slow machine can only make the check weaker.
    public static let settle: Duration = .milliseconds(300)

    /// Starts `service.run()`, runs `whileRunning`, checks that `run()` is still running, stops it, and checks that
    /// it returned.
    ///
    /// - Parameters:
    ///   - stop: Graceful shutdown (through ServiceLifecycleTestKit) or cancellation of `run()`'s task.
    ///   - service: The service.
    ///   - whileRunning: What to do while it runs, such as waiting until it did its first work.
    ///   - sourceLocation: Where failures are reported.
    /// - Throws: What `run()` or `whileRunning` throws.
    public static func expectRunsUntil<S: Service>(
        _ stop: Stop,
        _ service: S,
        whileRunning: @Sendable () async throws -> Void = {},
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let returned = Returned()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await service.run()
                    returned.set()
                }
                try await whileRunning()
                try await Task.sleep(for: Self.settle)
                #expect(!returned.value, "run() returned before \(stop)", sourceLocation: sourceLocation)
                switch stop {
                case .gracefulShutdown: trigger.triggerGracefulShutdown()
                case .cancellation: group.cancelAll()
                }
                try await group.waitForAll()
                #expect(returned.value, "run() did not return on \(stop)", sourceLocation: sourceLocation)
            }
        }
    }
}
