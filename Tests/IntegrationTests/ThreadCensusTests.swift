// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// The thread census (`Tests/ThreadCensus`): every kind of client and pool started, used and shut down in a process of
/// its own, which must end with the threads it started with (Documentation/Threading.md). A process-wide thread count
/// is only meaningful in a child process: this test process runs its tests in parallel.
@Suite("Thread census", .requiresServers, .timeLimit(.minutes(2)))
struct ThreadCensusTests {
    @Test("no thread is left after shutdown; memcached workers survive rebuilds; the poll thread stops")
    func threadsComeBack() async throws {
        let census = try await ToolProcess.run("ThreadCensus", [])
        #expect(census.status == 0, "\(census.output)\(census.error)")
        #expect(census.output.contains("before: "))
        #expect(census.output.contains("after: "))
        #expect(!census.output.contains("FAIL"), "\(census.output)")
    }
}
