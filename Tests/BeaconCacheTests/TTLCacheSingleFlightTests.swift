// SPDX-License-Identifier: Apache-2.0

import BeaconTesting
import Testing

@testable import BeaconCache

@Suite("TTLCache single flight", .timeLimit(.minutes(1)))
struct TTLCacheSingleFlightTests {
    static let callers = 1_000

    /// Starts `callers` reads of one cold key whose load waits on a gate, and opens the gate once every other
    /// caller is waiting for the load.
    static func readConcurrently(
        _ cache: TTLCache<String, String>,
        load: @escaping @Sendable (String) async throws -> String?
    ) async -> [Result<String?, any Error>] {
        await withTaskGroup(of: Result<String?, any Error>.self) { group in
            for _ in 0..<Self.callers {
                group.addTask {
                    do {
                        return .success(try await cache.value(for: "cold", load: load))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var results: [Result<String?, any Error>] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    @Test("1,000 concurrent reads of a cold key run one load and all get its value")
    func oneLoadForAll() async throws {
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(60)), clock: ManualClock())
        let loads = Counter()
        let gate = Gate()
        async let results = Self.readConcurrently(cache) { key in
            loads.increment()
            await gate.wait()
            return "value of \(key)"
        }
        #expect(try await eventually { cache.waitingCallers(for: "cold") == Self.callers - 1 })
        gate.open()
        let values = try await results.map { try $0.get() }
        #expect(values.count == Self.callers)
        #expect(values.allSatisfy { $0 == "value of cold" })
        #expect(loads.count == 1)
    }

    @Test("when the shared load throws, all 1,000 callers get the error and the next read loads again")
    func oneFailureForAll() async throws {
        let cache = TTLCache<String, String>(configuration: .init(ttl: .seconds(60)), clock: ManualClock())
        let loads = Counter()
        let gate = Gate()
        let load: @Sendable (String) async throws -> String? = { _ in
            let attempt = loads.increment()
            await gate.wait()
            if attempt == 1 { throw LoadFailure(attempt: attempt) }
            return "recovered"
        }
        async let results = Self.readConcurrently(cache, load: load)
        #expect(try await eventually { cache.waitingCallers(for: "cold") == Self.callers - 1 })
        gate.open()
        let outcomes = await results
        #expect(outcomes.count == Self.callers)
        for outcome in outcomes {
            #expect(throws: LoadFailure(attempt: 1)) { try outcome.get() }
        }
        #expect(loads.count == 1)
        #expect(try await cache.value(for: "cold", load: load) == "recovered")
        #expect(loads.count == 2)
    }

    @Test("a waiting caller that is cancelled stops waiting; the load goes on for the others")
    func waiterCancellation() async throws {
        let cache = TTLCache<String, String>(clock: ManualClock())
        let loads = Counter()
        let gate = Gate()
        let load: @Sendable (String) async throws -> String? = { _ in
            loads.increment()
            await gate.wait()
            return "v"
        }
        let leader = Task { try await cache.value(for: "k", load: load) }
        #expect(try await eventually { loads.count == 1 })
        let waiter = Task { try await cache.value(for: "k", load: load) }
        #expect(try await eventually { cache.waitingCallers(for: "k") == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(cache.waitingCallers(for: "k") == 0)
        gate.open()
        #expect(try await leader.value == "v")
        #expect(loads.count == 1)
    }

    @Test("when the leading caller is cancelled, a waiting caller takes over the load")
    func leaderCancellation() async throws {
        let cache = TTLCache<String, String>(clock: ManualClock())
        let loads = Counter()
        let gate = Gate()
        let load: @Sendable (String) async throws -> String? = { _ in
            let attempt = loads.increment()
            if attempt == 1 {
                await gate.wait()
                try Task.checkCancellation()
            }
            return "from attempt \(attempt)"
        }
        let leader = Task { try await cache.value(for: "k", load: load) }
        #expect(try await eventually { loads.count == 1 })
        let waiter = Task { try await cache.value(for: "k", load: load) }
        #expect(try await eventually { cache.waitingCallers(for: "k") == 1 })
        leader.cancel()
        gate.open()
        await #expect(throws: CancellationError.self) { try await leader.value }
        #expect(try await waiter.value == "from attempt 2")
    }
}
