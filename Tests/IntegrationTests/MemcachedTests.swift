// SPDX-License-Identifier: Apache-2.0

import CBeaconMemcached
import Foundation
import Testing

/// libmemcached, called directly, against the memcached instances of `scripts/servers`.
@Suite("libmemcached against memcached", .requiresServers, .timeLimit(.minutes(1)))
struct MemcachedTests {
    @Test("libmemcached reports its version")
    func version() {
        let version = String(cString: memcached_lib_version())
        #expect(version.split(separator: ".").count >= 2)
    }

    @Test("set and get on each of the three instances")
    func setAndGet() throws {
        let endpoints = try TestServers.value("BEACON_MEMCACHED_ENDPOINTS").split(separator: ",")
        #expect(endpoints.count == 3)
        for endpoint in endpoints {
            let parts = endpoint.split(separator: ":")
            let host = String(parts[0])
            let port = try #require(UInt16(parts[1]))
            let client = try #require(memcached_create(nil))
            defer { memcached_free(client) }
            #expect(memcached_server_add(client, host, port) == MEMCACHED_SUCCESS)

            let key = "beacon-tests-\(UUID().uuidString)"
            let value = "value for \(endpoint)"
            let stored = memcached_set(client, key, key.utf8.count, value, value.utf8.count, 60, 7)
            #expect(stored == MEMCACHED_SUCCESS, "\(String(cString: memcached_strerror(client, stored)))")

            var length = 0
            var flags: UInt32 = 0
            var code = MEMCACHED_SUCCESS
            let bytes = memcached_get(client, key, key.utf8.count, &length, &flags, &code)
            #expect(code == MEMCACHED_SUCCESS)
            let read = try #require(bytes)
            defer { free(read) }
            #expect(String(decoding: UnsafeRawBufferPointer(start: read, count: length), as: UTF8.self) == value)
            #expect(flags == 7)
        }
    }
}
