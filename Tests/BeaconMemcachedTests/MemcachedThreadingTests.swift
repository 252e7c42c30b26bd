// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import BeaconMemcached
import Foundation
import Logging
import Testing

/// Threads and timeouts, against a "server" that accepts connections and never answers: a listening socket
/// nobody accepts from (the kernel completes the handshake, so only the poll timeout ends a request).
@Suite("MemcachedPool threads and timeouts", .timeLimit(.minutes(1)))
struct MemcachedThreadingTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A listening socket on 127.0.0.1 with an ephemeral port; closed by `close()`.
    struct SilentServer: Sendable {
        let descriptor: Int32
        let endpoint: Endpoint

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    bind(descriptor, address, length) == 0 && listen(descriptor, 64) == 0
                        && getsockname(descriptor, address, &length) == 0
                }
            }
            guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
            self.descriptor = descriptor
            self.endpoint = Endpoint(host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)))
        }

        func close() { _ = Glibc.close(self.descriptor) }
    }

    /// The order in which things happened.
    final class Events: Sendable {
        private let list = Lock<[String]>([])
        func append(_ event: String) { self.list.withLock { $0.append(event) } }
        var all: [String] { self.list.withLock { $0 } }
    }

    @Test("blocked async operations run on the pool's threads, not the cooperative pool, and time out")
    func asyncDoesNotBlockCooperativePool() async throws {
        let silent = try SilentServer()
        defer { silent.close() }
        // The blocked gets last 3 s (stretched by BEACON_TEST_TIME_SCALE, 4 under a sanitizer, where the rest of the
        // suite keeps two cores busy several times longer): long enough that the task below runs first even while
        // the rest of the suite keeps the cooperative pool busy, and it only runs first if the gets do not hold the
        // cooperative threads.
        let scale = max(1, Double(ProcessInfo.processInfo.environment["BEACON_TEST_TIME_SCALE"] ?? "") ?? 1)
        let blocked = Duration.seconds(3) * scale
        let pool = try MemcachedPool(
            servers: [silent.endpoint],
            configuration: MemcachedPool.Configuration(
                connectTimeout: blocked,
                pollTimeout: blocked,
                failureLimit: 100,
                maxConnections: 4
            ),
            logger: Self.logger
        )
        defer { pool.close() }

        let events = Events()
        await withTaskGroup { group in
            // More blocked operations than the machine has cooperative threads.
            for index in 0..<4 {
                group.addTask {
                    let error = await #expect(throws: MemcachedError.self) { try await pool.get("key-\(index)") }
                    #expect(error?.code == .timeout)
                    #expect(error?.endpoint == silent.endpoint)
                    events.append("get")
                }
            }
            group.addTask {
                await Task.yield()
                events.append("cooperative")
            }
        }
        let order = events.all
        #expect(order.count == 5)
        #expect(order.first == "cooperative")
    }

    @Test("the blocking API is bounded by the poll timeout and names the server and return code")
    func blockingTimeout() throws {
        let silent = try SilentServer()
        defer { silent.close() }
        let pool = try MemcachedPool(
            servers: [silent.endpoint],
            configuration: MemcachedPool.Configuration(pollTimeout: .milliseconds(200)),
            logger: Self.logger
        )
        defer { pool.close() }
        let error = #expect(throws: MemcachedError.self) {
            try pool.withBlockingConnection { try $0.get("k") }
        }
        #expect(error?.code == .timeout)
        #expect(error?.returnCode != nil)
        #expect(error?.returnCodeName?.isEmpty == false)
        #expect(error.map { "\($0)" }?.contains(silent.endpoint.hostAndPort) == true)
    }

    @Test("a pool with all connections lent out makes the next caller wait at most acquireTimeout")
    func poolExhausted() async throws {
        let pool = try MemcachedPool(
            servers: [Endpoint(host: "10.0.0.1", port: 11211)],
            configuration: MemcachedPool.Configuration(maxConnections: 1, acquireTimeout: .milliseconds(50)),
            logger: Self.logger
        )
        defer { pool.close() }
        let error = try pool.withBlockingConnection { _ in
            // The only connection is lent to this closure: a nested lease cannot get one.
            #expect(throws: MemcachedError.self) { try pool.withBlockingConnection { _ in () } }
        }
        #expect(error?.code == .poolExhausted)
    }
}
