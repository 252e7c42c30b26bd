// SPDX-License-Identifier: Apache-2.0

import BeaconContainer
import BeaconExpression
import BenchmarkSupport
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The container's scale curve: YAML definitions of 100, 1,000 and 10,000 services in a dependency tree, each
// with a parent reference, an expression argument and a parameter, timed in three separate steps: loading the
// YAML text into a builder, `build()`, and the first get of every service.

/// A service of the generated tree: an expression object, so a child's expression can read its parent's name.
final class TreeNode: ExpressionObject {
    let className = "TreeNode"
    let name: String
    let parent: TreeNode?

    init(name: String, parent: TreeNode?) {
        self.name = name
        self.parent = parent
    }

    func hasMethod(named lowercasedName: String) -> Bool {
        lowercasedName == "getname"
    }

    func callMethod(named lowercasedName: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
        .string(ExpressionString(name))
    }
}

/// Generates and times the YAML definitions of a service tree.
enum ScaleCurve {
    /// Symfony-style YAML for `count` services `node.0` ... : service `i` has the parent `node.((i - 1) / 2)`
    /// (a binary tree; `node.0` has `null`), the expression `service('node.P').getName() ~ '/i'` (a distinct text
    /// per service, as in real files) and the parameter `%node.prefix%`.
    ///
    /// - Parameter count: The number of services.
    /// - Returns: The YAML text.
    static func yaml(services count: Int) -> String {
        var lines = ["parameters:", "    node.prefix: 'tree'", "", "services:"]
        lines.reserveCapacity(count * 3 + 4)
        for index in 0..<count {
            let parent = (index - 1) / 2
            let arguments =
                index == 0
                ? "[~, \"@=parameter('node.prefix') ~ '/0'\", '%node.prefix%']"
                : "['@node.\(parent)', \"@=service('node.\(parent)').getName() ~ '/\(index)'\", '%node.prefix%']"
            lines.append("    node.\(index):")
            lines.append("        class: TreeNode")
            lines.append("        arguments: \(arguments)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A builder with the `TreeNode` factory and the YAML loaded.
    ///
    /// - Parameter yaml: The YAML text.
    /// - Returns: The builder.
    /// - Throws: The loader's ``ContainerError``.
    static func load(_ yaml: String) throws -> ContainerBuilder {
        var builder = ContainerBuilder()
        builder.registerFactory("TreeNode") { arguments in
            TreeNode(
                name: try arguments.string(2) + "." + (try arguments.string(1)),
                parent: try arguments.optionalService(0, as: TreeNode.self)
            )
        }
        try builder.loadYAML(yaml, file: "tree.yaml")
        return builder
    }

    /// Gets every service once, in id order.
    ///
    /// - Parameters:
    ///   - container: A container built from ``yaml(services:)``.
    ///   - count: The number of services.
    /// - Throws: An error of the container or a factory.
    static func getAll(_ container: Container, services count: Int) async throws {
        for index in 0..<count {
            blackHoleReference(try await container.get("node.\(index)", as: TreeNode.self))
        }
    }

    /// The process's CPU time in milliseconds: on a loaded machine it grows only while the process runs, unlike the
    /// wall clock (the measured steps run on one thread).
    static func processCPUMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
    }

    /// The best of `rounds` timings of load, build and first gets, in milliseconds.
    ///
    /// - Parameters:
    ///   - count: The number of services.
    ///   - rounds: How many times to repeat the three steps.
    /// - Returns: The best wall-clock load, build and first-gets times, the best CPU time of load and build, and
    ///   the best wall-clock and CPU times of Yams's parse of the text alone (each the minimum over the rounds on
    ///   its own).
    /// - Throws: An error of the loader, `build()`, the container or a factory.
    static func measure(
        services count: Int,
        rounds: Int
    ) async throws -> (load: Double, build: Double, gets: Double, loadBuildCPU: Double, yams: Double, yamsCPU: Double) {
        let yaml = yaml(services: count)
        let clock = ContinuousClock()
        let milliseconds = { (duration: Duration) in
            Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
        }
        var best = (
            load: Double.infinity, build: Double.infinity, gets: Double.infinity, loadBuildCPU: Double.infinity,
            yams: Double.infinity, yamsCPU: Double.infinity
        )
        for _ in 0..<rounds {
            // Yams's share of the load: its parse of the same text with the resolver the loader uses (the text has no
            // plain `%` scalar to quote).
            let yamsCPUStart = processCPUMilliseconds()
            let yamsStart = clock.now
            let root = try Yams.compose(yaml: yaml, Resolver.basic)
            best.yams = min(best.yams, milliseconds(clock.now - yamsStart))
            best.yamsCPU = min(best.yamsCPU, processCPUMilliseconds() - yamsCPUStart)
            precondition(root != nil)

            let cpuStart = processCPUMilliseconds()
            let start = clock.now
            let builder = try load(yaml)
            let loaded = clock.now
            let container = try builder.build()
            let built = clock.now
            let cpuBuilt = processCPUMilliseconds()
            try await getAll(container, services: count)
            let got = clock.now
            best.load = min(best.load, milliseconds(loaded - start))
            best.build = min(best.build, milliseconds(built - loaded))
            best.gets = min(best.gets, milliseconds(got - built))
            best.loadBuildCPU = min(best.loadBuildCPU, cpuBuilt - cpuStart)
        }
        return best
    }

    /// Measures 100, 1,000 and 10,000 services and prints and writes the `container-scale` curve.
    ///
    /// - Throws: An error of the loader, `build()`, the container or a factory.
    static func run() async throws {
        var curve = CurveTable(
            name: "container-scale",
            columns: [
                "services", "load_ms", "build_ms", "load_build_ms", "first_gets_ms", "load_build_us_per_service",
                "first_get_us_per_service", "load_build_cpu_ms", "yams_compose_ms", "yams_compose_cpu_ms",
            ]
        )
        // One small warm-up round, so the first size does not pay for code loading and lazy initialisation.
        _ = try await measure(services: 100, rounds: 1)
        for count in [100, 1_000, 10_000] {
            let best = try await measure(services: count, rounds: count >= 10_000 ? 5 : 9)
            let loadBuild = best.load + best.build
            curve.add([
                Double(count), best.load, best.build, loadBuild, best.gets,
                loadBuild * 1_000 / Double(count), best.gets * 1_000 / Double(count), best.loadBuildCPU,
                best.yams, best.yamsCPU,
            ])
        }
        curve.finish()
    }
}
