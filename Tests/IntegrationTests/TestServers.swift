// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// The servers `scripts/servers` starts, found through the environment variables it prints.
///
/// Integration suites are enabled when `BEACON_SERVERS=1` (servers started by hand with
/// `eval "$(scripts/servers env)"`) or `BEACON_REQUIRE_SERVERS=1` (set by `scripts/test`). With the latter, a
/// missing variable fails the test instead of skipping it, so CI cannot pass without the servers.
enum TestServers {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether integration tests should run.
    static let available = environment["BEACON_REQUIRE_SERVERS"] == "1" || environment["BEACON_SERVERS"] == "1"

    /// The value of a variable that `scripts/servers env` exports.
    static func value(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw MissingServer(variable: name)
        }
        return value
    }

    struct MissingServer: Error, CustomStringConvertible {
        var variable: String
        var description: String {
            "\(self.variable) is not set: start the test servers with `scripts/servers start` and "
                + "`eval \"$(scripts/servers env)\"`, or run `scripts/test`"
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs a suite only when the test servers are up (see ``TestServers``).
    static var requiresServers: Self {
        .enabled(if: TestServers.available, "needs the servers of scripts/servers (run scripts/test)")
    }
}
