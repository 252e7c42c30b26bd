// SPDX-License-Identifier: Apache-2.0

import Foundation

// Fault scenarios: each runs a workload against the servers of scripts/servers while a fault is injected, and prints
// one Markdown table row. Run through scripts/faults, which starts private servers in a network namespace of their
// own (never the shared ones) and stops them afterwards:
//   scripts/faults [SCENARIO...]     (default: all)     scripts/faults list
// Arguments: `list`, `limits` (each scenario's time limit in seconds), or scenario names; BEACON_FAULTS_TABLE names the file the table is also written to.

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["list"] {
    for scenario in Scenario.all {
        print("\(scenario.name)\t\(scenario.servers.joined(separator: ","))\t\(scenario.summary)")
    }
    exit(0)
}
if arguments == ["limits"] {
    for scenario in Scenario.all { print("\(scenario.name)\t\(scenario.limit.components.seconds)") }
    exit(0)
}
guard ProcessInfo.processInfo.environment["BEACON_FAULTS_NAMESPACE"] == "1" else {
    FileHandle.standardError.write(
        Data("run the scenarios with scripts/faults: they freeze and cut off servers\n".utf8)
    )
    exit(2)
}
let unknown = arguments.filter { name in !Scenario.all.contains { $0.name == name } }
guard unknown.isEmpty else {
    FileHandle.standardError.write(Data("unknown scenario(s): \(unknown.joined(separator: " "))\n".utf8))
    exit(2)
}
let selected = arguments.isEmpty ? Scenario.all : Scenario.all.filter { arguments.contains($0.name) }

var lines = [Row.header]
print(Row.header)
var allMet = true
for scenario in selected {
    FileHandle.standardError.write(Data("faults: \(scenario.name): \(scenario.summary)\n".utf8))
    let row = await scenario.row()
    allMet = allMet && row.goalMet
    lines.append(row.markdown)
    print(row.markdown)
    fflush(nil)
}
if let path = ProcessInfo.processInfo.environment["BEACON_FAULTS_TABLE"] {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}
exit(allMet ? 0 : 1)
