// SPDX-License-Identifier: Apache-2.0

import Beacon
import CBeaconMemcached

/// Creating and configuring the libmemcached handle every connection of a pool is cloned from.
enum MemcachedHandleFactory {
    /// The most servers a consistent-hashing handle takes: libmemcached's continuum has room for
    /// `MEMCACHED_CONTINUUM_SIZE` points, `MEMCACHED_POINTS_PER_SERVER` per server, and with a longer list
    /// `update_continuum` fails an assertion, which aborts the process (Debian builds it with assertions on).
    static let maxConsistentServers = Int(MEMCACHED_CONTINUUM_SIZE) / Int(MEMCACHED_POINTS_PER_SERVER)

    /// Creates a handle with the configuration's behaviours and the servers, in the order PHP's `Memcached` applies them.
    ///
    /// The caller owns the result and frees it with `memcached_free`. On failure nothing is left allocated.
    static func makeMaster(
        configuration: MemcachedPool.Configuration,
        servers: [Endpoint]
    ) throws(MemcachedError) -> UnsafeMutablePointer<memcached_st> {
        guard !servers.isEmpty else {
            throw MemcachedError(.invalidConfiguration, "the server list is empty")
        }
        if let prefix = configuration.keyPrefix, prefix.utf8.count >= Int(MEMCACHED_MAX_NAMESPACE) {
            throw MemcachedError(.invalidConfiguration, "the key prefix is longer than 127 bytes")
        }
        guard configuration.maxConnections >= 1 else {
            throw MemcachedError(.invalidConfiguration, "maxConnections must be at least 1")
        }
        if configuration.distribution == .consistent, servers.count > Self.maxConsistentServers {
            throw MemcachedError(
                .invalidConfiguration,
                "\(servers.count) servers: consistent hashing takes at most \(Self.maxConsistentServers) "
                    + "(libmemcached's ring holds \(MEMCACHED_CONTINUUM_SIZE) points, \(MEMCACHED_POINTS_PER_SERVER) "
                    + "per server, and aborts the process beyond)"
            )
        }
        guard let handle = memcached_create(nil) else {
            throw MemcachedError(.invalidConfiguration, "memcached_create failed (out of memory)")
        }
        do {
            try self.configure(handle, configuration: configuration)
            try self.add(servers, to: handle)
            return handle
        } catch {
            memcached_free(handle)
            throw error
        }
    }

    /// Clones a configured handle, repairing what `memcached_clone` loses (see ``repairClone(_:configuration:)``).
    static func clone(
        _ master: UnsafeMutablePointer<memcached_st>,
        configuration: MemcachedPool.Configuration
    ) -> UnsafeMutablePointer<memcached_st>? {
        guard let clone = memcached_clone(nil, master) else { return nil }
        self.repairClone(clone, configuration: configuration)
        return clone
    }

    /// Turns weighted ketama back on in a handle cloned from a libketama-compatible master.
    ///
    /// libmemcached 1.1.4's `memcached_clone` (also used by `memcached_pool_create` and `memcached_pool_fetch`)
    /// does not copy the weighted-ketama flag, so a clone of a handle configured like PHP's
    /// `OPT_LIBKETAMA_COMPATIBLE` maps keys differently from the handle it was cloned from, unless some weight is
    /// above 1 (adding such a server sets the flag again). The check is one field read per call.
    static func repairClone(_ handle: UnsafeMutablePointer<memcached_st>, configuration: MemcachedPool.Configuration) {
        guard configuration.libketamaCompatible, configuration.distribution == .consistent else { return }
        if memcached_behavior_get(handle, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) == 0 {
            _ = memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1)
        }
    }

    private static func configure(
        _ handle: UnsafeMutablePointer<memcached_st>,
        configuration: MemcachedPool.Configuration
    ) throws(MemcachedError) {
        // The distribution first, then libketama compatibility: the order of PHP's documented
        // setOption(OPT_DISTRIBUTION, ...) then setOption(OPT_LIBKETAMA_COMPATIBLE, true).
        switch configuration.distribution.base {
        case .consistent:
            try self.set(handle, MEMCACHED_BEHAVIOR_DISTRIBUTION, UInt64(MEMCACHED_DISTRIBUTION_CONSISTENT.rawValue))
            if configuration.libketamaCompatible {
                try self.set(handle, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1)
            }
        case .modula:
            break
        }
        try self.set(handle, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, milliseconds(configuration.connectTimeout))
        try self.set(handle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, milliseconds(configuration.pollTimeout))
        if let timeout = configuration.sendTimeout {
            try self.set(handle, MEMCACHED_BEHAVIOR_SND_TIMEOUT, microseconds(timeout))
        }
        if let timeout = configuration.receiveTimeout {
            try self.set(handle, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, microseconds(timeout))
        }
        if configuration.binaryProtocol {
            try self.set(handle, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1)
        }
        try self.set(handle, MEMCACHED_BEHAVIOR_TCP_NODELAY, configuration.tcpNoDelay ? 1 : 0)
        try self.set(handle, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1)
        try self.set(handle, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, UInt64(max(1, configuration.failureLimit)))
        let retry = max(1, (milliseconds(configuration.retryTimeout) + 999) / 1000)
        try self.set(handle, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, retry)
        try self.set(handle, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, configuration.removeFailedServers ? 1 : 0)
        if let prefix = configuration.keyPrefix, !prefix.isEmpty {
            let rc = prefix.withCString { memcached_callback_set(handle, MEMCACHED_CALLBACK_NAMESPACE, $0) }
            guard memcached_success(rc) else {
                throw MemcachedError(
                    .invalidConfiguration,
                    "libmemcached rejected the key prefix",
                    returnCode: Int(rc.rawValue),
                    returnCodeName: String(cString: memcached_strerror(handle, rc))
                )
            }
        }
    }

    /// Adds the servers in one push: the ring is built once for the whole list. (`memcached_server_add_with_weight`
    /// for each server, as PHP's `addServers` calls it, rebuilds the whole ring after each one: quadratic, 136 ms for
    /// 100 servers. The ring built at the end is the same, since each rebuild starts from the whole list.)
    private static func add(_ servers: [Endpoint], to handle: UnsafeMutablePointer<memcached_st>) throws(MemcachedError)
    {
        var list: memcached_server_list_st? = nil
        defer { if let list { memcached_server_list_free(list) } }
        for server in servers {
            guard (1...65535).contains(server.port) else {
                throw MemcachedError(.invalidConfiguration, "the port is out of range", endpoint: server)
            }
            let weight = server.weight ?? 1
            guard weight >= 1, weight <= Int(UInt32.max) else {
                throw MemcachedError(.invalidConfiguration, "the weight must be at least 1", endpoint: server)
            }
            var rc = MEMCACHED_SUCCESS
            let appended = server.host.withCString { host in
                memcached_server_list_append_with_weight(list, host, in_port_t(server.port), UInt32(weight), &rc)
            }
            guard let appended, memcached_success(rc) else {
                throw Self.rejected(server, rc, handle)
            }
            list = appended
        }
        let rc = memcached_server_push(handle, list)
        guard memcached_success(rc) else {
            throw MemcachedError(
                .invalidConfiguration,
                "libmemcached rejected the server list",
                returnCode: Int(rc.rawValue),
                returnCodeName: String(cString: memcached_strerror(handle, rc))
            )
        }
    }

    private static func rejected(
        _ server: Endpoint,
        _ rc: memcached_return_t,
        _ handle: UnsafeMutablePointer<memcached_st>
    ) -> MemcachedError {
        MemcachedError(
            .invalidConfiguration,
            "libmemcached rejected the server",
            endpoint: server,
            returnCode: Int(rc.rawValue),
            returnCodeName: String(cString: memcached_strerror(handle, rc))
        )
    }

    private static func set(
        _ handle: UnsafeMutablePointer<memcached_st>,
        _ behavior: memcached_behavior_t,
        _ value: UInt64
    ) throws(MemcachedError) {
        let rc = memcached_behavior_set(handle, behavior, value)
        guard memcached_success(rc) else {
            throw MemcachedError(
                .invalidConfiguration,
                "libmemcached rejected behaviour \(behavior.rawValue) = \(value)",
                returnCode: Int(rc.rawValue),
                returnCodeName: String(cString: memcached_strerror(handle, rc))
            )
        }
    }
}

/// A duration in whole milliseconds, at least 1 for a positive duration.
func milliseconds(_ duration: Duration) -> UInt64 {
    guard duration > .zero else { return 0 }
    return max(1, UInt64(duration.wholeMilliseconds))
}

/// A duration in whole microseconds, at least 1 for a positive duration.
func microseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, duration > .zero else { return 0 }
    let value = UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    return max(1, value)
}
