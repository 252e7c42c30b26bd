// SPDX-License-Identifier: Apache-2.0

import BeaconCache
import BenchmarkSupport
import Synchronization

// A fresh hit of TTLCache against the simplest thread-safe alternative: a dictionary behind a Mutex, which
// never expires anything. Both hold 1,000 keys of discovery-like values; the key read is the same each time.

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
let load: @Sendable (String) async throws -> String? = { _ in fatalError("a fresh hit must not load") }

let benchmark = Benchmark(iterations: 1_000_000, warmUpIterations: 100_000, rounds: 7)

print(
    try await benchmark.compare(
        "TTLCache.value(for:load:) fresh hit vs Mutex<[String: String]> read",
        async: { try await cache.value(for: hotKey, load: load) },
        baseline: { baseline.withLock { $0[hotKey] } }
    )
)
print(
    try await benchmark.compare(
        "TTLCache.value(for:load:) fresh hit, LRU-bounded, vs Mutex<[String: String]> read",
        async: { try await bounded.value(for: hotKey, load: load) },
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
