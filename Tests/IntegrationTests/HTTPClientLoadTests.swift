// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Synchronization
import Testing

/// The client never blocks the cooperative pool, however many transfers are open.
@Suite("HTTPClient under load", .requiresServers, .timeLimit(.minutes(1)))
struct HTTPClientLoadTests {
    @Test("with 50 watches and 200 concurrent requests open, an unrelated task still runs on time")
    func nonBlocking() async throws {
        var configuration = HTTPClientConfiguration()
        configuration.maxConnectionsPerHost = 200  // all 200 requests in flight at once, not queued
        let client = HTTPClient(configuration: configuration)
        defer { client.shutdown() }
        let prefix = EtcdGateway.uniquePrefix("load")

        // An unrelated task on the cooperative pool: sleeps 10 ms in a loop and records the longest gap.
        let ticking = Atomic<Bool>(true)
        let ticker = Task.detached {
            var longestGap = Duration.zero
            var last = ContinuousClock.now
            while ticking.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(10))
                let now = ContinuousClock.now
                longestGap = max(longestGap, now - last)
                last = now
            }
            return longestGap
        }

        // 50 watch streams, all open at once: each reads its created message, says so, then waits for one event.
        let watchRequest = try EtcdGateway.post("/v3/watch", json: EtcdGateway.watchBody(prefix: prefix))
        let (created, createdContinuation) = AsyncStream.makeStream(of: Void.self)
        var rounds = 0
        let seen = try await withThrowingTaskGroup(of: [String].self) { watches in
            for _ in 0..<50 {
                watches.addTask {
                    var reader = WatchReader(try await client.stream(watchRequest))
                    let message = try #require(try await reader.next())
                    #expect(message["created"] as? Bool == true)
                    createdContinuation.yield()
                    return try await reader.keys(count: 1)
                }
            }
            var createdCount = 0
            for await _ in created {
                createdCount += 1
                if createdCount == 50 { break }
            }
            #expect(client.runningTransferCount == 50)

            // 200 requests at once, from 200 tasks, while the watches stay open; for at least a second.
            let start = ContinuousClock.now
            repeat {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let key = EtcdGateway.base64("\(prefix)other/\(index)")
                            let request = try EtcdGateway.post("/v3/kv/range", json: #"{"key":"\#(key)"}"#)
                            return try await client.execute(request).status
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.count == 200)
                #expect(statuses.allSatisfy { $0 == 200 })
                rounds += 1
            } while ContinuousClock.now - start < .seconds(1)

            // Every watch is still alive and sees a put.
            try await EtcdGateway.put(client, key: "\(prefix)after-load", value: "1")
            return try await watches.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(seen.count == 50)
        #expect(seen.allSatisfy { $0 == ["\(prefix)after-load"] })

        ticking.store(false, ordering: .relaxed)
        let longestGap = try await ticker.value
        // The machine is shared: assert a generous bound, not tight timing.
        #expect(longestGap < .milliseconds(500), "the unrelated task stalled for \(longestGap) during \(rounds) rounds")
    }
}
