// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BenchmarkSupport
import Foundation
import Synchronization

// A fresh hit of TTLCache against the simplest thread-safe alternative: a dictionary behind a Mutex, which
// never expires anything. Both hold 1,000 keys of discovery-like values; the key read is the same each time. Then the
// same comparison at 1,000 to 1,000,000 entries, as a curve.

let keys = (0..<1_000).map { "/services/memcached/cache-\($0)" }
let hotKey = keys[500]

let baseline = Mutex<[String: String]>([:])
baseline.withLock { dictionary in
    for key in keys { dictionary[key] = "10.0.0.\(key.count):11211" }
}

let cache = TTLCache<String, String>(name: "benchmark", configuration: .init(ttl: .seconds(3_600)))
let bounded = TTLCache<String, String>(name: "bounded", configuration: .init(ttl: .seconds(3_600), maxEntries: 2_000))
for key in keys {
    _ = try await cache.value(for: key) { "10.0.0.\($0.count):11211" }
    _ = try await bounded.value(for: key) { "10.0.0.\($0.count):11211" }
}
// The load is written at each call site, as code calls the cache: a closure literal. (A closure kept in a variable of
// type `(String) async throws -> String?` would be turned into the generic closure type on every call, a heap
// allocation and its release; so would a literal that captures values.)

// The cache as most code meets it: a CachingSource in front of a discovery source (a StaticSource here).
let cachingSource = CachingSource(
    base: StaticSource(Dictionary(uniqueKeysWithValues: keys.map { ($0, "10.0.0.\($0.count):11211") })),
    keys: TTLCache(name: "keys", configuration: .init(ttl: .seconds(3_600))),
    prefixes: TTLCache(name: "prefixes", configuration: .init(ttl: .seconds(3_600)))
)
_ = try await cachingSource.get(hotKey)

// `CacheBenchmarks --instructions hit|caching-source|dictionary COUNT`: only that many hot-key reads through the async harness,
// for callgrind (`valgrind --tool=callgrind`), which counts the instructions of each side exactly.
let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--instructions", let count = Int(arguments[3]) {
    let single = Benchmark(iterations: count, warmUpIterations: 0, rounds: 1)
    if arguments[2] == "hit" {
        print(
            try await single.measure(
                "hit",
                async: { try await cache.value(for: hotKey, load: { _ in fatalError("a fresh hit must not load") }) }
            )
        )
    } else if arguments[2] == "caching-source" {
        print(try await single.measure("caching source", async: { try await cachingSource.get(hotKey) }))
    } else {
        print(await single.measure("dictionary", async: { baseline.withLock { $0[hotKey] } }))
    }
    exit(0)
}

let benchmark = Benchmark(iterations: 1_000_000, warmUpIterations: 100_000, rounds: 7)

print(
    try await benchmark.compare(
        "TTLCache.value(for:load:) fresh hit vs Mutex<[String: String]> read",
        async: { try await cache.value(for: hotKey, load: { _ in fatalError("a fresh hit must not load") }) },
        baseline: { baseline.withLock { $0[hotKey] } }
    )
)
print(
    try await benchmark.compare(
        "TTLCache.value(for:load:) fresh hit, LRU-bounded, vs Mutex<[String: String]> read",
        async: { try await bounded.value(for: hotKey, load: { _ in fatalError("a fresh hit must not load") }) },
        baseline: { baseline.withLock { $0[hotKey] } }
    )
)
print(
    try await benchmark.compare(
        "CachingSource.get fresh hit vs Mutex<[String: String]> read",
        async: { try await cachingSource.get(hotKey) },
        baseline: { baseline.withLock { $0[hotKey] } }
    )
)
print(
    benchmark.compare(
        "TTLCache.cachedLookup(for:) (synchronous) vs Mutex<[String: String]> read",
        subject: { cache.cachedLookup(for: hotKey) },
        baseline: { baseline.withLock { $0[hotKey] } }
    )
)

// The hit cost as the cache grows: 1,000 to 1,000,000 entries, each read in a shuffled order (the same order for
// both sides), so that at the large sizes both pay the memory misses a real workload would. Beside each, a
// dictionary of the same keys behind a Mutex, read through the same async harness.
var curve = CurveTable(
    name: "cache-hit-scale",
    columns: ["entries", "cache_hit_ns", "dictionary_ns", "ratio", "cache_rss_mib", "entry_sized_dictionary_ns"]
)

/// A dictionary value as large as the cache's entry for a `String` (its value, five times and two deadlines: 80
/// bytes), to tell the cost of the entry's size from the cost of the cache's code.
struct EntrySizedValue {
    var value: String
    var times: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0, 0, 0)
}
// `CACHE_PROFILE=cache|dictionary CACHE_PROFILE_SIZE=10000`: only that side's shuffled hits at that size, for a
// profiler (`perf record`), then exit.
let profileSide = ProcessInfo.processInfo.environment["CACHE_PROFILE"]
let profileSize = ProcessInfo.processInfo.environment["CACHE_PROFILE_SIZE"].flatMap { Int($0) }
// `CACHE_SCALE_SIZES=2000,5000,...` measures those sizes instead of the curve's four.
let scaleSizes = ProcessInfo.processInfo.environment["CACHE_SCALE_SIZES"].map {
    $0.split(separator: ",").compactMap { Int($0) }
}
for size in profileSize.map({ [$0] }) ?? scaleSizes ?? [1_000, 10_000, 100_000, 1_000_000] {
    let sizedKeys = (0..<size).map { "/services/app/instance-\($0)" }
    var generator = SystemRandomNumberGenerator()
    let order = sizedKeys.indices.shuffled(using: &generator)
    let memoryBefore = residentMemoryMiB()
    let sized = TTLCache<String, String>(name: "scale-\(size)", configuration: .init(ttl: .seconds(3_600)))
    for key in sizedKeys { sized.insert("10.0.0.\(key.count):11211", for: key) }
    let memoryAfter = residentMemoryMiB()
    let dictionary = Mutex<[String: String]>([:])
    dictionary.withLock { dictionary in
        for key in sizedKeys { dictionary[key] = "10.0.0.\(key.count):11211" }
    }
    let entrySized = Mutex<[String: EntrySizedValue]>([:])
    entrySized.withLock { dictionary in
        for key in sizedKeys { dictionary[key] = EntrySizedValue(value: "10.0.0.\(key.count):11211") }
    }
    var next = 0
    var nextBaseline = 0
    if let profileSide {
        let single = Benchmark(iterations: 20_000_000, warmUpIterations: 0, rounds: 1)
        if profileSide == "cache" {
            print(
                try await single.measure("cache") {
                    next &+= 1
                    return try await sized.value(for: sizedKeys[order[next % size]], load: { _ in nil })
                }
            )
        } else {
            print(
                single.measure("dictionary") {
                    nextBaseline &+= 1
                    return dictionary.withLock { $0[sizedKeys[order[nextBaseline % size]]] }
                }
            )
        }
        exit(0)
    }
    /// The shuffled fresh hits beside reads of the same keys in the same order by `read`, which gets each key's
    /// position in the shuffled order; both sides start again at the first key.
    func compareHits(against baselineName: String, _ read: @Sendable (Int) -> String?) async throws -> Comparison {
        next = 0
        nextBaseline = 0
        return try await Benchmark(iterations: 1_000_000, warmUpIterations: size, rounds: 5).compare(
            "TTLCache.value(for:load:) fresh hit among \(size) entries vs \(baselineName)",
            async: {
                next &+= 1
                return try await sized.value(
                    for: sizedKeys[order[next % size]],
                    load: { _ in fatalError("a fresh hit must not load") }
                )
            },
            baseline: {
                nextBaseline &+= 1
                return read(nextBaseline % size)
            }
        )
    }
    let comparison = try await compareHits(against: "Mutex<[String: String]> read") { position in
        dictionary.withLock { $0[sizedKeys[order[position]]] }
    }
    print(comparison)
    let sizeControl = try await compareHits(against: "a dictionary of entry-sized values") { position in
        entrySized.withLock { $0[sizedKeys[order[position]]]?.value }
    }
    print(sizeControl)
    curve.add([
        Double(size), comparison.subject.nanosecondsPerOperation, comparison.baseline.nanosecondsPerOperation,
        comparison.ratio, memoryAfter - memoryBefore, sizeControl.baseline.nanosecondsPerOperation,
    ])
}
curve.finish()
