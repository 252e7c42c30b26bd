// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconConfiguration
import BenchmarkSupport
import Configuration

// An int read through a ConfigReader: over DiscoveryConfigProvider (its snapshot of a StaticSource, as run() or
// load() keeps it) beside swift-configuration's InMemoryProvider holding the same 100 keys. Goal: a ratio of at
// most 1.5.

var discovered: [String: String] = [:]
var inMemory: [AbsoluteConfigKey: ConfigValue] = [:]
for index in 0..<100 {
    discovered["/config/service\(index)/port"] = "\(8_000 + index)"
    inMemory[AbsoluteConfigKey(["service\(index)", "port"])] = ConfigValue(.int(8_000 + index), isSecret: false)
}
let beacon = DiscoveryConfigProvider(source: StaticSource(discovered))
try await beacon.load()
let memory = InMemoryProvider(values: inMemory)
let beaconReader = ConfigReader(provider: beacon)
let memoryReader = ConfigReader(provider: memory)
let key: ConfigKey = "service50.port"
precondition(beaconReader.int(forKey: key) == 8_050 && memoryReader.int(forKey: key) == 8_050)

let benchmark = Benchmark(iterations: 1_000_000, warmUpIterations: 100_000, rounds: 7)

let reader = benchmark.compare(
    "ConfigReader.int(forKey:) through DiscoveryConfigProvider vs through InMemoryProvider",
    subject: { beaconReader.int(forKey: key) },
    baseline: { memoryReader.int(forKey: key) }
)
print(reader)
let absolute = AbsoluteConfigKey(key)
print(
    try benchmark.compare(
        "DiscoveryConfigProvider.value(forKey:type: .int) vs InMemoryProvider.value(forKey:type: .int)",
        subject: { try beacon.value(forKey: absolute, type: .int) },
        baseline: { try memory.value(forKey: absolute, type: .int) }
    )
)
print("goal for the ConfigReader read: ratio <= 1.5; \(reader.ratio <= 1.5 ? "met" : "NOT met")")
