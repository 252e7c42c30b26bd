// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConsul
import BeaconEtcd
import BeaconZooKeeper
import BenchmarkSupport
import Foundation

// Watch of a large prefix at 1,000, 10,000 and 100,000 keys, for etcd, the file source, Consul and ZooKeeper: the
// time to the first snapshot, the process's resident memory once it is held, and one change's cost (from the write
// to its delivery, and the process's CPU per change) through watch(prefix:) and through changes(prefix:).
//
// Needs the servers of scripts/servers (eval "$(scripts/servers env)"): etcd and ZooKeeper are used as they run.
// Consul is a private instance of the repository's fake agent (Tests/ConsulFake/fake_consul.py) started here without
// a data directory: the shared instance writes and fsyncs its whole KV store after every write, which makes filling
// it with 100,000 keys quadratic. Run from the repository's root, so that the CSVs land in Benchmarks/results.
//
// WATCH_SCALE_BACKENDS (etcd,file,consul,zookeeper) and WATCH_SCALE_SIZES (1000,10000,100000) choose what runs.
// Each backend runs in a process of its own (this program runs itself again), so that its memory figures are its own.
// WATCH_SCALE_PROFILE_CHANGES=N adds, at the largest size, a first snapshot and N changes through watch(prefix:),
// between lines "profile PHASE start T" and "profile PHASE end T" (T: CLOCK_MONOTONIC seconds), so that a profile
// recorded with `perf record -k CLOCK_MONOTONIC` can be cut to each phase with `perf report --time T1,T2`.

let environment = ProcessInfo.processInfo.environment
let sizes = (environment["WATCH_SCALE_SIZES"] ?? "1000,10000,100000").split(separator: ",").compactMap { Int($0) }
let backends = Set((environment["WATCH_SCALE_BACKENDS"] ?? "etcd,file,consul,zookeeper").split(separator: ","))
let profileChanges = Int(environment["WATCH_SCALE_PROFILE_CHANGES"] ?? "") ?? 0
let prefix = "/beacon-bench/watch-scale/"

/// Changes measured per size: fewer at 100,000 keys, where a snapshot change costs a second or more on some backends.
func changeCount(_ size: Int) -> Int { size >= 100_000 ? 5 : 15 }

func run(_ backend: ScaleBackend) async throws {
    print("\n== \(backend.name) (load: \(loadAverage()))")
    var curve = CurveTable(name: "watch-\(backend.name)", columns: ScaleRow.columns)
    var populated = 0
    do {
        for size in sizes {
            let start = ContinuousClock.now
            try await backend.populate(populated..<size)
            populated = size
            print(
                "\(backend.name): \(size) keys written in \(format(milliseconds(start.duration(to: .now)) / 1_000, 1)) s"
            )
            let row = try await measure(backend, size: size, changes: changeCount(size))
            print("\(backend.name) \(size): \(row.values.map { format($0, 2) }.joined(separator: " "))")
            curve.add(row.values)
            if profileChanges > 0 && size == sizes.last {
                try await profile(backend, size: size)
            }
        }
    } catch {
        print("\(backend.name): stopped: \(error)")
    }
    curve.finish()
    let start = ContinuousClock.now
    try await backend.cleanup()
    print("\(backend.name): prefix deleted in \(format(milliseconds(start.duration(to: .now)) / 1_000, 1)) s")
}

func profile(_ backend: ScaleBackend, size: Int) async throws {
    var watch = backend.source.watch(prefix: backend.prefix).makeAsyncIterator()
    print("profile snapshot start \(monotonicSeconds())")
    _ = try await watch.next()
    print("profile snapshot end \(monotonicSeconds())")
    try await Task.sleep(for: .seconds(1))
    let key = backend.key(size / 2)
    for index in 0..<profileChanges {
        let value = "profiled-\(index)"
        try backend.stage(key, value)
        print("profile change start \(monotonicSeconds())")
        try await backend.change(key, value)
        while let snapshot = try await watch.next(), snapshot[key: key]?.string != value {}
        print("profile change end \(monotonicSeconds())")
    }
}

/// CLOCK_MONOTONIC, the clock `perf record -k CLOCK_MONOTONIC` stamps samples with, in seconds.
func monotonicSeconds() -> String {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return String(format: "%.6f", Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
}

/// Runs this program again for each backend, one at a time, and returns whether it did (then this process is done).
func runEachBackendInItsOwnProcess() throws -> Bool {
    guard environment["WATCH_SCALE_CHILD"] == nil else { return false }
    for name in ["etcd", "file", "consul", "zookeeper"] where backends.contains(Substring(name)) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.environment = environment.merging(["WATCH_SCALE_BACKENDS": name, "WATCH_SCALE_CHILD": "1"]) { $1 }
        try child.run()
        child.waitUntilExit()
    }
    return true
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
}

if try runEachBackendInItsOwnProcess() { exit(0) }
print("Watch scale: sizes \(sizes), load \(loadAverage())")

if backends.contains("etcd") {
    let endpoint = environment["BEACON_ETCD_ENDPOINT"] ?? "http://127.0.0.1:23790"
    let etcd = try EtcdClient(configuration: .init(endpoints: [endpoint]))
    _ = try await etcd.delete(prefix: prefix)
    try await run(
        ScaleBackend(
            name: "etcd",
            source: etcd,
            prefix: prefix,
            populate: { range in
                try await concurrently(range) { [prefix] index in
                    _ = try await etcd.put("\(prefix)\(index)", "10.0.\(index / 256 % 256).\(index % 256):11211")
                }
            },
            change: { key, value in _ = try await etcd.put(key, value) },
            cleanup: { _ = try await etcd.delete(prefix: prefix) }
        )
    )
    etcd.close()
}

if backends.contains("file") {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-watch-scale-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent("keys.json").path
    let values = FileValues(path: path)
    try values.write()
    // The watch polls once an hour: each change reloads the file itself, so the delay measured is the work alone.
    let file = try FileSource(path: path, configuration: .init(format: .json, pollInterval: .seconds(3_600)))
    try await run(
        ScaleBackend(
            name: "file",
            source: file,
            prefix: prefix,
            populate: { range in
                for index in range { values.set("\(prefix)\(index)", "10.0.\(index / 256 % 256).\(index % 256):11211") }
                try values.write()
                try file.reload()
            },
            stage: { key, value in
                values.set(key, value)
                try values.write()
            },
            change: { _, _ in try file.reload() },
            cleanup: { try FileManager.default.removeItem(at: directory) }
        )
    )
}

if backends.contains("consul") {
    let agent = try FakeConsul.start()
    defer { agent.stop() }
    let consul = try ConsulClient(configuration: .init(agents: [agent.endpoint]))
    try await run(
        ScaleBackend(
            name: "consul",
            source: consul,
            prefix: prefix,
            populate: { range in
                try await concurrently(range, workers: 16) { [prefix] index in
                    try await consul.put("\(prefix)\(index)", "10.0.\(index / 256 % 256).\(index % 256):11211")
                }
            },
            change: { key, value in try await consul.put(key, value) },
            cleanup: { try await consul.delete(prefix: prefix) }
        )
    )
    consul.close()
}

if backends.contains("zookeeper") {
    let endpoint = environment["BEACON_ZOOKEEPER_ENDPOINT"] ?? "127.0.0.1:21810"
    let zookeeper = try ZooKeeperClient(configuration: .init(servers: [endpoint]))
    _ = try await zookeeper.delete(prefix: prefix)
    _ = try? await zookeeper.create(String(prefix.dropLast()), makeParents: true)
    try await run(
        ScaleBackend(
            name: "zookeeper",
            source: zookeeper,
            prefix: prefix,
            populate: { range in
                try await concurrently(range, workers: 64) { [prefix] index in
                    try await zookeeper.create(
                        "\(prefix)\(index)",
                        data: Array("10.0.\(index / 256 % 256).\(index % 256):11211".utf8)
                    )
                }
            },
            change: { key, value in _ = try await zookeeper.put(key, value) },
            cleanup: {
                // delete(prefix:) deletes one node at a time; the children of one directory can go concurrently.
                let directory = String(prefix.dropLast())
                let children = try await zookeeper.children(of: directory)
                try await concurrently(0..<children.count, workers: 64) { index in
                    _ = try await zookeeper.delete("\(directory)/\(children[index])")
                }
                _ = try await zookeeper.delete(prefix: prefix)
                _ = try await zookeeper.delete(directory)
                _ = try? await zookeeper.delete("/beacon-bench")
            }
        )
    )
    await zookeeper.close()
}
