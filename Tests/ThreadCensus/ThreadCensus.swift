// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconConsul
import BeaconEtcd
import BeaconHTTP
import BeaconMemcached
import BeaconPostgres
import BeaconRegister
import BeaconZooKeeper
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// Counts this process's threads, starts every kind of client and pool Beacon has against the servers of
/// `scripts/servers`, uses each, shuts everything down, and checks that the thread count is back where it started.
///
/// It runs in a process of its own (IntegrationTests' `ThreadCensusTests` starts it), because a process-wide thread
/// count means nothing in a test process whose tests run in parallel. It prints the count and the threads by name
/// (`/proc/self/task/*/comm`) before, while everything runs, and after, and exits with status 1 when a thread is
/// left, when the memcached worker threads changed across a dynamic pool's rebuilds, or when the PostgreSQL poll
/// thread outlived the last connection. Linux only: it reads `/proc/self/task`.
@main
struct ThreadCensus {
    static func main() async {
        do {
            let failures = try await Self.census()
            for failure in failures { print("FAIL: \(failure)") }
            exit(failures.isEmpty ? 0 : 1)
        } catch {
            print("FAIL: \(error)")
            exit(1)
        }
    }

    static func census() async throws -> [String] {
        var failures: [String] = []
        // Swift's cooperative pool and libdispatch start their threads on first use: use them first, so that the
        // count taken before starts from the threads any async program has.
        await Self.warmUpConcurrency()
        let before = Threads.current()
        let descriptorsBefore = Self.openDescriptors()
        print("before: \(before.summary), \(descriptorsBefore) open descriptors")

        let environment = try TestEnvironment()
        failures += try await MemcachedCensus.run(environment, baseline: before)
        failures += try await PostgresCensus.run(environment, baseline: before)
        try await RegistryCensus.run(environment, baseline: before)
        try await CacheCensus.run(baseline: before)
        try await HTTPCensus.run(environment, baseline: before)
        try await RegisterCensus.run(environment, baseline: before)

        // Everything is shut down: wait for the threads to exit. Generous, for a loaded machine or a sanitizer build;
        // it returns as soon as the count is back.
        let after = await Threads.settle(atMost: before.count, within: .seconds(10))
        print("after: \(after.summary)")
        if after.count > before.count {
            failures.append("\(after.count) threads after shutdown, \(before.count) before")
        }
        let beacon = after.names.filter { $0.key.hasPrefix("beacon-") }
        if !beacon.isEmpty {
            failures.append("Beacon threads left after shutdown: \(beacon)")
        }
        // What the clients and pools opened (sockets, epoll sets, eventfds, pipes) is closed with them.
        let descriptorsAfter = Self.openDescriptors()
        print("after: \(descriptorsAfter) open descriptors")
        if descriptorsAfter > descriptorsBefore {
            failures.append("\(descriptorsAfter) open descriptors after shutdown, \(descriptorsBefore) before")
        }
        return failures
    }

    /// How many descriptors the process has open (the entries of `/proc/self/fd`, less the one listing them).
    static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return count - 3  // ".", ".." and the directory's own descriptor
    }

    /// Runs tasks on every thread of the cooperative pool, and a sleep (libdispatch's timers).
    static func warmUpConcurrency() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { try? await Task.sleep(for: .milliseconds(20)) }
            }
        }
    }
}

/// The variables of `scripts/servers env` the census needs.
struct TestEnvironment {
    let etcd: String
    let consul: String
    let zookeeper: String
    let memcached: [Endpoint]
    let postgres: String

    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(self.name) is not set: run with the environment of `scripts/servers env`" }
    }

    init() throws {
        func value(_ name: String) throws -> String {
            guard let pointer = getenv(name), case let value = String(cString: pointer), !value.isEmpty else {
                throw Missing(name: name)
            }
            return value
        }
        self.etcd = try value("BEACON_ETCD_ENDPOINT")
        self.consul = try value("BEACON_CONSUL_ENDPOINT")
        self.zookeeper = try value("BEACON_ZOOKEEPER_ENDPOINT")
        self.memcached = try Endpoint.list(parsing: try value("BEACON_MEMCACHED_ENDPOINTS"))
        guard self.memcached.count == 3 else { throw Missing(name: "BEACON_MEMCACHED_ENDPOINTS (three servers)") }
        let host = try value("BEACON_POSTGRES_A_HOST")
        let port = try value("BEACON_POSTGRES_A_PORT")
        let user = try value("BEACON_POSTGRES_APP_USER")
        let password = try value("BEACON_POSTGRES_APP_PASSWORD")
        let database = try value("BEACON_POSTGRES_DATABASE")
        self.postgres =
            #"{"host": "\#(host)", "port": \#(port), "database": "\#(database)", "user": "\#(user)", "#
            + #""password": "\#(password)", "connect_timeout": 30, "application_name": "beacon-thread-census"}"#
    }
}

/// The process's threads: ids and names from `/proc/self/task`.
struct Threads {
    /// Thread id to name.
    let byID: [Int: String]

    var count: Int { self.byID.count }

    /// How many threads have each name.
    var names: [String: Int] { self.byID.values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    /// The ids of the threads with a name.
    func ids(named name: String) -> Set<Int> { Set(self.byID.filter { $0.value == name }.keys) }

    var summary: String {
        "\(self.count) threads (\(Self.list(self.names)))"
    }

    /// The threads that are not in `baseline`, by name: what a phase of the census added. A thread nobody named has
    /// the name of the thread that created it (Linux copies it), often a thread of Swift's cooperative pool.
    func added(since baseline: Threads) -> String {
        let added = self.byID.filter { baseline.byID[$0.key] == nil }
        let names = added.values.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        return "+\(added.count) (\(Self.list(names)))"
    }

    private static func list(_ names: [String: Int]) -> String {
        names.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
    }

    static func current() -> Threads {
        var byID: [Int: String] = [:]
        guard let directory = opendir("/proc/self/task") else { return Threads(byID: [:]) }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let id = Int(name) else { continue }
            byID[id] = Self.comm(of: name)
        }
        return Threads(byID: byID)
    }

    private static func comm(of id: String) -> String {
        let descriptor = open("/proc/self/task/\(id)/comm", O_RDONLY)
        guard descriptor >= 0 else { return "?" }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return "?" }
        return String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: "\n")
    }

    /// Polls until at most `limit` threads remain, or `timeout` passes; returns the last count.
    static func settle(atMost limit: Int, within timeout: Duration) async -> Threads {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var threads = Self.current()
        while threads.count > limit, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            threads = Self.current()
        }
        return threads
    }

    /// Polls until the number of threads named `name` is `count`, or `timeout` passes; returns the last census.
    static func settle(named name: String, to count: Int, within timeout: Duration) async -> Threads {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var threads = Self.current()
        while threads.names[name, default: 0] != count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            threads = Self.current()
        }
        return threads
    }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        var text = Substring(self)
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

/// Runs `body` with `service.run()` going in a child task, then cancels it and waits for it to return.
func whileRunning<Result: Sendable>(
    _ service: some Service,
    _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await service.run() }
        do {
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}
