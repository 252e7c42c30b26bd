// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import BenchmarkSupport
import Swinject
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// BeaconContainer's `get` beside the hand-written floors (a lazy singleton behind an atomic, and behind a
// Mutex), a `[String: Any]` lookup plus cast, and Swinject's `resolve` of a `.container`-scoped service
// (plain and synchronized: ours is thread-safe, so the synchronized resolver is the fair peer).

/// The service every benchmark gets.
final class Pool: Sendable {
    let servers: String

    init(servers: String) {
        self.servers = servers
    }
}

/// The configuration service the expression argument reads.
final class Configuration: ExpressionObject {
    let className = "Configuration"

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getmemcached"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        "memcached:10.0.0.1:11211"
    }
}

/// A hand-written lazy singleton: an acquiring load of a flag, then the stored instance.
///
/// `@unchecked Sendable` is safe: `instance` is written once, under `lock`, before the releasing store of
/// `ready`; readers read it only after an acquiring load of `ready` returned `true`, and never write it.
final class AtomicSingleton: @unchecked Sendable {
    private let ready = Atomic<Bool>(false)
    private let lock = Mutex<Void>(())
    private nonisolated(unsafe) var instance: Pool?

    @inline(never)
    func get() -> Pool {
        if ready.load(ordering: .acquiring), let instance {
            return instance
        }
        return lock.withLock { _ in
            if let instance {
                return instance
            }
            let created = Pool(servers: "10.0.0.1:11211")
            instance = created
            ready.store(true, ordering: .releasing)
            return created
        }
    }
}

/// A hand-written lazy singleton behind a Mutex.
final class MutexSingleton: Sendable {
    private let instance = Mutex<Pool?>(nil)

    @inline(never)
    func get() -> Pool {
        instance.withLock { instance in
            if let instance {
                return instance
            }
            let created = Pool(servers: "10.0.0.1:11211")
            instance = created
            return created
        }
    }
}

func makeBuilder() -> ContainerBuilder {
    var builder = ContainerBuilder()
    builder.register("conf", as: Configuration.self) { _ in Configuration() }
    builder.registerFactory("MemcacheSessionHandler") { arguments in Pool(servers: try arguments.string(0)) }
    builder.register(
        "session.handler",
        factory: "MemcacheSessionHandler",
        arguments: [.expression("service('conf').getMemcached()")]
    )
    builder.register(
        "session.handler.transient",
        factory: "MemcacheSessionHandler",
        arguments: [.expression("service('conf').getMemcached()")],
        scope: .transient
    )
    return builder
}

var builder = makeBuilder()
let poolKey = builder.register("memcached.pool", as: Pool.self) { _ in Pool(servers: "10.0.0.1:11211") }
let refreshableKey = builder.register("memcached.config", as: Pool.self, scope: .refreshable) { _ in
    Pool(servers: "10.0.0.1:11211")
}
for index in 0..<200 {
    builder.register("service.\(index)", as: Pool.self) { _ in Pool(servers: "\(index)") }
}
let container = try builder.build()
_ = try await container.get(poolKey)
_ = try await container.get(refreshableKey)
_ = try await container.get("conf", as: Configuration.self)

let atomicSingleton = AtomicSingleton()
/// A reference to copy out, for the floor of any get that hands out a class instance: one retain, one release.
let floorReference = Unmanaged.passRetained(Pool(servers: "10.0.0.1:11211"))
let mutexSingleton = MutexSingleton()
_ = atomicSingleton.get()
_ = mutexSingleton.get()

var anyTable: [String: Any] = [:]
for index in 0..<200 {
    anyTable["service.\(index)"] = Pool(servers: "\(index)")
}
anyTable["memcached.pool"] = Pool(servers: "10.0.0.1:11211")
let frozenTable = anyTable

let swinject = Swinject.Container()
swinject.register(Pool.self) { _ in Pool(servers: "10.0.0.1:11211") }.inObjectScope(.container)
_ = swinject.resolve(Pool.self)
let synchronized = swinject.synchronize()

/// The first get of `session.handler` in fresh containers, in ns per get: the containers are built before the
/// clock starts; each is used once, so the timed get evaluates the expression, constructs `conf` (through
/// `service('conf')`), and constructs and stores the handler.
func firstGetInFreshContainers(perRound: Int, rounds: Int) async throws -> Double {
    var best = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        var containers: [BeaconContainer.Container] = []
        containers.reserveCapacity(perRound)
        for _ in 0..<perRound {
            containers.append(try makeBuilder().build())
        }
        let start = clock.now
        for fresh in containers {
            blackHoleReference(try await fresh.get("session.handler", as: Pool.self))
        }
        let elapsed = clock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        best = min(best, nanoseconds / Double(perRound))
    }
    return best
}

// `--scale` measures only the scale curve (YAML load, build and first gets of 100 to 10,000 services) and writes
// Benchmarks/results/container-scale.csv; without it the curve is measured after the comparisons.
if CommandLine.arguments.contains("--scale") {
    try await ScaleCurve.run()
    exit(0)
}

// `--instructions CASE COUNT` runs one operation COUNT times and exits, for instruction counts under callgrind:
// run it with two counts (and SWIFT_DETERMINISTIC_HASHING=1); the difference of the totals divided by the
// difference of the counts is the cost of one operation. `first-get` builds COUNT containers and gets
// `session.handler` from each; subtract `build`, which only builds them. `yaml-load`, `yaml-build` and `yaml-gets`
// take COUNT as the number of services of the scale curve's YAML, for a profile of one large load.
if let flag = CommandLine.arguments.firstIndex(of: "--instructions"), CommandLine.arguments.count > flag + 2,
    let count = Int(CommandLine.arguments[flag + 2])
{
    switch CommandLine.arguments[flag + 1] {
    case "typed":
        for _ in 0..<count { blackHoleReference(try await container.get(poolKey)) }
    case "string":
        for _ in 0..<count { blackHoleReference(try await container.get("memcached.pool", as: Pool.self)) }
    case "refreshable":
        for _ in 0..<count { blackHoleReference(try await container.get(refreshableKey)) }
    case "expression":
        for _ in 0..<count {
            blackHoleReference(try await container.get("session.handler.transient", as: Pool.self))
        }
    case "first-get", "build":
        var containers: [BeaconContainer.Container] = []
        for _ in 0..<count { containers.append(try makeBuilder().build()) }
        if CommandLine.arguments[flag + 1] == "first-get" {
            for fresh in containers { blackHoleReference(try await fresh.get("session.handler", as: Pool.self)) }
        }
    case "yaml-load", "yaml-build", "yaml-gets":
        // COUNT services in the scale curve's YAML tree, loaded once (then built, then each got once).
        let builder = try ScaleCurve.load(ScaleCurve.yaml(services: count))
        if CommandLine.arguments[flag + 1] != "yaml-load" {
            let built = try builder.build()
            if CommandLine.arguments[flag + 1] == "yaml-gets" { try await ScaleCurve.getAll(built, services: count) }
        }
    default:
        print(
            "unknown case; one of typed, string, refreshable, expression, first-get, build, yaml-load, yaml-build, "
                + "yaml-gets"
        )
        exit(1)
    }
    exit(0)
}

if CommandLine.arguments.contains("--detached") {
    let main = try await firstGetInFreshContainers(perRound: 200, rounds: 100)
    let detached = try await Task.detached { try await firstGetInFreshContainers(perRound: 200, rounds: 100) }.value
    print("first get: main actor \(main) ns, detached task \(detached) ns")
    exit(0)
}

if CommandLine.arguments.contains("--profile-first-get") {
    print("first get, fresh container: \(try await firstGetInFreshContainers(perRound: 200, rounds: 3_000)) ns")
    exit(0)
}
// `--profile-first-get` only repeats the fresh-container first get (for perf); `--first-get-sizes` measures it
// with rounds of different sizes, to show what cold caches add.
if CommandLine.arguments.contains("--first-get-sizes") {
    for size in [1, 10, 100, 200, 500, 1_000, 2_000] {
        let rounds = max(10, 40_000 / size)
        let nanoseconds = try await firstGetInFreshContainers(perRound: size, rounds: rounds)
        print("first get, \(size) containers per round: \((nanoseconds * 10).rounded() / 10) ns")
    }
    exit(0)
}

// Each timed operation is a batch of gets inside one async call, so the harness's own async call is
// amortised and the figures are per get, as in a request handler that gets services in async code. Every
// get's result goes to `blackHoleReference`, one opaque call without reference counting, in every row alike
// (the generic `blackHole` copies through value witnesses, about 10 ns a call: one row shows it).
let batch = 100
/// `--expression` runs only the expression-argument measurements (for profiling).
let onlyExpression = CommandLine.arguments.contains("--expression")
let benchmark = Benchmark(iterations: onlyExpression ? 1 : 20_000, warmUpIterations: 2_000, rounds: 7)

/// Prints a comparison per get and returns (subject ns, baseline ns, ratio).
func report(_ comparison: Comparison, _ name: String) -> (subject: Double, baseline: Double, ratio: Double) {
    let subject = comparison.subject.nanosecondsPerOperation / Double(batch)
    let baseline = comparison.baseline.nanosecondsPerOperation / Double(batch)
    let rounded = { (value: Double) in (value * 100).rounded() / 100 }
    print(
        "\(name): \(rounded(subject)) ns/get, baseline \(rounded(baseline)) ns/get, ratio \(rounded(comparison.ratio))"
    )
    return (subject, baseline, comparison.ratio)
}

let typedVsAtomic = report(
    try await benchmark.compare(
        "typed",
        async: {
            for _ in 0..<batch { blackHoleReference(try await container.get(poolKey)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(atomicSingleton.get()) }
        }
    ),
    "get(ServiceKey) of a built shared service vs hand-written atomic lazy singleton"
)
_ = report(
    try await benchmark.compare(
        "typed",
        async: {
            for _ in 0..<batch { blackHoleReference(try await container.get(poolKey)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(mutexSingleton.get()) }
        }
    ),
    "get(ServiceKey) of a built shared service vs hand-written Mutex lazy singleton"
)
_ = report(
    try await benchmark.compare(
        "typed",
        async: {
            for _ in 0..<batch { blackHole(try await container.get(poolKey)) }
        },
        baseline: {
            for _ in 0..<batch { blackHole(atomicSingleton.get()) }
        }
    ),
    "the same with the generic blackHole sink: get(ServiceKey) vs atomic lazy singleton"
)
_ = report(
    try await benchmark.compare(
        "typed",
        async: {
            for _ in 0..<batch { blackHoleReference(try await container.get(refreshableKey)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(mutexSingleton.get()) }
        }
    ),
    "get(ServiceKey) of a built refreshable service (read under its lock) vs Mutex lazy singleton"
)
_ = report(
    try await benchmark.compare(
        "floor",
        async: {
            for _ in 0..<batch { blackHoleReference(try await container.get(poolKey)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(floorReference.takeUnretainedValue()) }
        }
    ),
    "get(ServiceKey) vs the floor: a reference copied out of memory (one retain, one release)"
)
let stringVsTable = report(
    try await benchmark.compare(
        "string",
        async: {
            for _ in 0..<batch { blackHoleReference(try await container.get("memcached.pool", as: Pool.self)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(frozenTable["memcached.pool"] as? Pool) }
        }
    ),
    "get(\"memcached.pool\", as:) vs [String: Any] lookup plus cast"
)

let swinjectBenchmark = Benchmark(iterations: onlyExpression ? 1 : 1_000, warmUpIterations: 100, rounds: 7)
let plain = report(
    try await swinjectBenchmark.compare(
        "swinject",
        async: {
            for _ in 0..<batch { blackHoleReference(swinject.resolve(Pool.self)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(try await container.get(poolKey)) }
        }
    ),
    "Swinject resolve (plain) vs get(ServiceKey)"
)
let synchronizedComparison = report(
    try await swinjectBenchmark.compare(
        "swinject",
        async: {
            for _ in 0..<batch { blackHoleReference(synchronized.resolve(Pool.self)) }
        },
        baseline: {
            for _ in 0..<batch { blackHoleReference(try await container.get(poolKey)) }
        }
    ),
    "Swinject resolve (synchronized) vs get(ServiceKey)"
)

print(
    try await Benchmark(iterations: 100_000, warmUpIterations: 10_000, rounds: 7).measure(
        "get of a transient service whose argument is @=service('conf').getMemcached() (conf built)",
        async: { try await container.get("session.handler.transient", as: Pool.self) }
    )
)

// The first get in fresh containers, three ways. Rounds of 200: the containers of a round fit in this machine's
// 4 MB L2 cache, as a container built at startup and used soon after does. Rounds of 2,000 (as measured
// before): most of a round's containers have left L2 when their first get comes. One container per round: the
// get runs right after the build, with the code of the get path evicted by the build's own.
let firstGet = try await firstGetInFreshContainers(perRound: 200, rounds: 100)
let firstGetLarge = try await firstGetInFreshContainers(perRound: 2_000, rounds: 10)
let firstGetSingle = try await firstGetInFreshContainers(perRound: 1, rounds: 20_000)
let tenths = { (value: Double) in (value * 10).rounded() / 10 }
print(
    "first get of a service whose argument is @=service('conf').getMemcached(), fresh container: "
        + "\(tenths(firstGet)) ns/op (rounds of 200 containers), \(tenths(firstGetLarge)) ns/op (rounds of 2,000), "
        + "\(tenths(firstGetSingle)) ns/op (one container per round)"
)

print("")
print("goals:")
print("  typed get / atomic singleton: \(typedVsAtomic.ratio) (goal <= 1.5)")
print("  string-id get: \(stringVsTable.subject) ns (goal <= 60)")
print(
    "  first get with an expression argument: \(firstGet) ns, \(firstGetLarge) ns, \(firstGetSingle) ns "
        + "(goal <= 2000)"
)
print("  Swinject synchronized / typed get: \(synchronizedComparison.ratio) (goal >= 100)")
print("  Swinject plain / typed get: \(plain.ratio)")

try await ScaleCurve.run()
