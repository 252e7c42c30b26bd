// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import BeaconRegister
import BeaconTesting

/// A check whose every answer the test gives, one call at a time.
///
/// Each call of the check waits for the next answer (or takes one given in advance). A test knows that the watchdog
/// has acted on answer `n` when call `n + 1` is waiting (``waitForCall(_:)``), so no test depends on timing.
final class ScriptedCheck: Sendable {
    struct Unhealthy: Error, CustomStringConvertible {
        var description: String { "the scripted check failed" }
    }

    private struct State {
        var answers: [Bool] = []
        var waiter: CheckedContinuation<Bool, any Error>?
        var calls = 0
    }

    private let state = Lock(State())

    /// The check to give the watchdog.
    var healthCheck: HealthCheck {
        .custom("scripted") { try await self.call() }
    }

    /// Gives the next answers: `true` passes, `false` fails.
    func answer(_ answers: Bool...) {
        var answers = answers
        let (waiter, first) = self.state.withLock { state -> (CheckedContinuation<Bool, any Error>?, Bool?) in
            guard let waiter = state.waiter, !answers.isEmpty else {
                state.answers += answers
                return (nil, nil)
            }
            state.waiter = nil
            let first = answers.removeFirst()
            state.answers += answers
            return (waiter, first)
        }
        if let waiter, let first { waiter.resume(returning: first) }
    }

    /// Waits until call `number` (1-based) has started and waits for its answer.
    ///
    /// - Returns: Whether it did within the generous bound of `eventually`.
    func waitForCall(_ number: Int) async throws -> Bool {
        try await eventually { self.state.withLock { $0.calls == number && $0.waiter != nil } }
    }

    private func call() async throws {
        let pass = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                let ready = self.state.withLock { state -> Result<Bool, any Error>? in
                    state.calls += 1
                    if !state.answers.isEmpty { return .success(state.answers.removeFirst()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
        if !pass { throw Unhealthy() }
    }
}

/// What a fake registry or store saw, in order.
enum RegistryEvent: Hashable, Sendable {
    case registered(String)
    case withdrawn(String)
}

/// An in-memory registry that records registrations and withdrawals, and fails on demand.
final class FakeRegistry: ServiceRegistry, EphemeralKeyStore {
    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "the fake registry is unreachable" }
    }

    private struct State {
        var events: [RegistryEvent] = []
        var live: [String: (value: String, ttl: Duration)] = [:]
        var failuresLeft = 0
        var attempts = 0
    }

    private let state = Lock(State())

    /// Everything registered and withdrawn, in order.
    var events: [RegistryEvent] { self.state.withLock { $0.events } }
    /// What is registered now: key or `service/id`, with the value and TTL.
    var live: [String: (value: String, ttl: Duration)] { self.state.withLock { $0.live } }
    /// How many registrations were attempted, failed ones included.
    var attempts: Int { self.state.withLock { $0.attempts } }

    /// Makes the next `count` registrations fail.
    func failNext(_ count: Int) {
        self.state.withLock { $0.failuresLeft = count }
    }

    func instances(of service: String) async throws -> [ServiceInstance] { [] }

    func watchInstances(of service: String) -> ServiceInstanceWatch {
        ServiceInstanceWatch {
            var delivered = false
            return {
                defer { delivered = true }
                return delivered ? nil : []
            }
        }
    }

    func register(_ instance: ServiceInstance, ttl: Duration) async throws -> ServiceRegistration {
        let name = "\(instance.service)/\(instance.id)"
        try self.add(name, value: "\(instance.endpoint)", ttl: ttl)
        return ServiceRegistration(instance: instance) { self.remove(name) }
    }

    func putEphemeral(_ key: String, value: [UInt8], ttl: Duration) async throws -> EphemeralKey {
        try self.add(key, value: String(decoding: value, as: UTF8.self), ttl: ttl)
        return EphemeralKey(key: key) { self.remove(key) }
    }

    private func add(_ name: String, value: String, ttl: Duration) throws {
        try self.state.withLock { state in
            state.attempts += 1
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                throw Unreachable()
            }
            state.live[name] = (value, ttl)
            state.events.append(.registered(name))
        }
    }

    private func remove(_ name: String) {
        self.state.withLock { state in
            state.live[name] = nil
            state.events.append(.withdrawn(name))
        }
    }
}
