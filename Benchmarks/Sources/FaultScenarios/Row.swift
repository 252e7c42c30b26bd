// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One line of the table: what a scenario attempted, what went wrong, how long recovery took, and whether its goals
/// were met.
struct Row: Sendable {
    /// The scenario's name, as `scripts/faults` takes it.
    var scenario: String
    /// Operations the workload attempted while the fault was on (and until recovery).
    var attempted: Int = 0
    /// Operations that failed, of those that the goal says must not.
    var failed: Int = 0
    /// Entries of the store missing from (or different in) the watch's last snapshot once the fault ended;
    /// `nil` where the scenario has no watch.
    var lost: Int?
    /// Snapshots equal to the one emitted just before them; `nil` where the scenario has no watch.
    var duplicates: Int?
    /// The time to recover, as the scenario defines it.
    var recovery: Duration?
    /// Whether every goal of the scenario was met.
    var goalMet: Bool = false
    /// Other figures and the reasons for a missed goal.
    var notes: [String] = []

    /// The table's header, in Markdown.
    static let header = """
        | scenario | attempted | failed | lost | duplicates | recovery | goals | notes |
        | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |
        """

    /// The row in Markdown.
    var markdown: String {
        let cells = [
            self.scenario,
            String(self.attempted),
            String(self.failed),
            self.lost.map(String.init) ?? "–",
            self.duplicates.map(String.init) ?? "–",
            self.recovery.map { $0.seconds } ?? "–",
            self.goalMet ? "met" : "**missed**",
            self.notes.joined(separator: "; ").replacingOccurrences(of: "|", with: "/"),
        ]
        return "| " + cells.joined(separator: " | ") + " |"
    }

    /// Adds a note and marks the goal missed when `condition` is false.
    mutating func require(_ condition: Bool, _ note: @autoclosure () -> String) {
        if !condition {
            self.goalMet = false
            self.notes.append("MISSED: " + note())
        }
    }
}

extension Duration {
    /// The duration in seconds with two decimals and a unit, as the table shows it.
    var seconds: String {
        let value = Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
        return String(format: "%.2f s", value)
    }

    /// The duration in milliseconds, without decimals.
    var milliseconds: String {
        let value = Double(self.components.seconds) * 1e3 + Double(self.components.attoseconds) / 1e15
        return String(format: "%.0f ms", value)
    }
}
