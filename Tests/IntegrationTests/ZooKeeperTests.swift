// SPDX-License-Identifier: Apache-2.0

import CBeaconZooKeeper
import Foundation
import Testing

/// libzookeeper_mt, called directly, against the ZooKeeper server of `scripts/servers`.
@Suite("libzookeeper_mt against ZooKeeper", .requiresServers, .timeLimit(.minutes(1)))
struct ZooKeeperTests {
    @Test("a handle connects, creates an ephemeral node and reads it back")
    func connectAndCreate() async throws {
        let endpoint = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        zoo_set_debug_level(ZOO_LOG_LEVEL_WARN)
        let watcher: watcher_fn = { _, _, _, _, _ in }
        let handle = try #require(zookeeper_init(endpoint, watcher, 10_000, nil, nil, 0))
        defer { zookeeper_close(handle) }

        let deadline = ContinuousClock.now + .seconds(20)
        while zoo_state(handle) != ZOO_CONNECTED_STATE, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(zoo_state(handle) == ZOO_CONNECTED_STATE)

        let path = "/beacon-tests-\(UUID().uuidString)"
        let value = Array("127.0.0.1:8001".utf8)
        var created = [CChar](repeating: 0, count: 256)
        let createCode = value.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                zoo_create(
                    handle,
                    path,
                    $0.baseAddress,
                    Int32($0.count),
                    cbeacon_zoo_open_acl_unsafe(),
                    ZOO_EPHEMERAL,
                    &created,
                    Int32(created.count)
                )
            }
        }
        #expect(createCode == ZOK.rawValue)
        #expect(String(decoding: created.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == path)

        var buffer = [CChar](repeating: 0, count: 256)
        var length = Int32(buffer.count)
        var stat = Stat()
        #expect(zoo_get(handle, path, 0, &buffer, &length, &stat) == ZOK.rawValue)
        #expect(Array(buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }) == value)
        #expect(stat.ephemeralOwner == zoo_client_id(handle).pointee.client_id)
    }
}
