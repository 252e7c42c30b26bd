// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation

/// What `scripts/faults` hands the scenarios: the servers' addresses (`scripts/servers env`) and the tools.
enum Environment {
    /// A variable that `scripts/servers env` exports.
    struct Missing: Error, CustomStringConvertible {
        /// The variable's name.
        var variable: String
        /// A readable account of the failure.
        var description: String { "\(self.variable) is not set: run the scenarios with scripts/faults" }
    }

    /// The value of a variable, or ``Missing``.
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw Missing(variable: name)
        }
        return value
    }

    /// A comma-separated list.
    static func list(_ name: String) throws -> [String] {
        try self.value(name).split(separator: ",").map(String.init)
    }

    /// Whether `iptables` can filter loopback traffic here (`scripts/faults` checks it and says so).
    static var canPartition: Bool { ProcessInfo.processInfo.environment["BEACON_FAULTS_IPTABLES"] == "1" }

    /// A key prefix no other run uses.
    static func uniquePrefix(_ name: String) -> String {
        "/faults/\(name)/\(UUID().uuidString.prefix(8))/"
    }

    /// The port of a URL such as `http://127.0.0.1:23792`, or of `127.0.0.1:21810`.
    static func port(of address: String) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0.filter(\.isNumber)) }
    }
}
