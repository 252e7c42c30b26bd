// SPDX-License-Identifier: Apache-2.0

import BeaconTesting
import BeaconZooKeeper
import Foundation
import Testing

/// The `beacon-demo` example, run as its README runs it, with `--zookeeper` against the ZooKeeper of `scripts/servers`.
@Suite("beacon-demo against ZooKeeper", .requiresServers, .timeLimit(.minutes(1)))
struct BeaconDemoToolTests {
    @Test("--zookeeper prints the services read below a chroot; with --watch, again after each change")
    func zookeeper() async throws {
        let endpoint = try TestServers.value("BEACON_ZOOKEEPER_ENDPOINT")
        let zookeeper = try ZooKeeperClientTests.client()
        let root = ZooKeeperClientTests.uniquePath("demo")
        try await zookeeper.put("\(root)/db/main/endpoint", "10.0.0.5:5432")
        try await zookeeper.put("\(root)/memcached/servers/a", "10.0.0.1:11211")

        let once = try await ToolProcess.run("beacon-demo", ["--zookeeper", endpoint + root])
        #expect(once.status == 0, "\(once.error)")
        #expect(once.output.contains("Source: ZooKeeper at \(endpoint)\(root)"))
        #expect(once.output.contains("Database:  10.0.0.5:5432"))
        #expect(once.output.contains("Memcached: 10.0.0.1:11211"))

        let watching = try ToolProcess("beacon-demo", ["--zookeeper", endpoint + root, "--watch"])
        #expect(try await eventually { watching.output.contains("Memcached: 10.0.0.1:11211") })
        try await zookeeper.put("\(root)/memcached/servers/b", "10.0.0.2:11211")
        #expect(try await eventually { watching.output.contains("Memcached: 10.0.0.2:11211") })
        try await zookeeper.put("\(root)/db/main/endpoint", "10.0.0.6:5432")
        #expect(try await eventually { watching.output.contains("Database:  10.0.0.6:5432") })
        watching.signal(SIGTERM)
        _ = await watching.waitForExit()

        try await zookeeper.delete(prefix: root)
        await zookeeper.close()
    }
}
