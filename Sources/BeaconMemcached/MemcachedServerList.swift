// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconMemcached

/// A pool's servers, and the way back from a libmemcached server instance to the ``Endpoint`` it was added as.
struct MemcachedServerList: Sendable {
    let servers: [Endpoint]
    private let positions: [HostPort: Int]

    private struct HostPort: Hashable {
        var host: String
        var port: Int
    }

    init(_ servers: [Endpoint]) {
        self.servers = servers
        var positions: [HostPort: Int] = [:]
        for (position, server) in servers.enumerated()
        where positions[HostPort(host: server.host, port: server.port)] == nil {
            positions[HostPort(host: server.host, port: server.port)] = position
        }
        self.positions = positions
    }

    /// The position in ``servers`` of the server libmemcached picks for a key on `handle`, or `nil` when it picks
    /// none or one not in the list. The handle must be used by the calling thread alone.
    func position(forKey key: UnsafeBufferPointer<UInt8>, handle: UnsafeMutablePointer<memcached_st>) -> Int? {
        var rc = MEMCACHED_SUCCESS
        let instance = key.withMemoryRebound(to: CChar.self) { key in
            memcached_server_by_key(handle, key.baseAddress, key.count, &rc)
        }
        guard let instance else { return nil }
        return self.position(of: instance)
    }

    /// The position in ``servers`` of a libmemcached server instance, or `nil` when it is not in the list.
    func position(of instance: OpaquePointer) -> Int? {
        guard let name = memcached_server_name(instance) else { return nil }
        return self.positions[HostPort(host: String(cString: name), port: Int(memcached_server_port(instance)))]
    }

    /// The positions in ``servers`` of the servers of `handle` that still owe answers to a request: after a
    /// multi-key read, those that did not answer within the poll timeout. (With two or more servers pending,
    /// libmemcached stops polling at the timeout without an error, and leaves their answers owed.)
    func positionsOwingAnswers(_ handle: UnsafeMutablePointer<memcached_st>) -> [Int] {
        var owing: [Int] = []
        for index in 0..<memcached_server_count(handle) {
            guard let instance = memcached_server_instance_by_position(handle, index),
                memcached_server_response_count(instance) > 0,
                let position = self.position(of: instance)
            else { continue }
            owing.append(position)
        }
        return owing
    }

    /// The server libmemcached picks for a key on this handle (`memcached_server_by_key`, as PHP's
    /// `getServerByKey`), or libmemcached's error when it picks none (it refuses an empty key and one of more than
    /// 250 bytes). The handle must be used by the calling thread alone.
    func server(
        forKey key: UnsafeBufferPointer<UInt8>,
        handle: UnsafeMutablePointer<memcached_st>
    ) -> Result<Endpoint, MemcachedError> {
        var rc = MEMCACHED_SUCCESS
        let instance = key.withMemoryRebound(to: CChar.self) { key in
            memcached_server_by_key(handle, key.baseAddress, key.count, &rc)
        }
        guard let instance, let name = memcached_server_name(instance) else {
            if memcached_success(rc) { rc = MEMCACHED_FAILURE }
            return .failure(
                MemcachedError(
                    rc == MEMCACHED_BAD_KEY_PROVIDED ? .invalidKey : .failed,
                    "libmemcached names no server for the key",
                    key: String(decoding: key, as: UTF8.self),
                    returnCode: Int(rc.rawValue),
                    returnCodeName: String(cString: memcached_strerror(handle, rc))
                )
            )
        }
        let found = HostPort(host: String(cString: name), port: Int(memcached_server_port(instance)))
        guard let position = self.positions[found] else {
            return .success(Endpoint(host: found.host, port: found.port))
        }
        return .success(self.servers[position])
    }
}
