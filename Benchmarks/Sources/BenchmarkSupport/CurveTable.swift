// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A scale curve: figures measured at growing sizes, printed as a Markdown table and written as CSV, which
/// `scripts/plot-benchmarks` turns into a plot for Documentation/Performance.md.
///
/// The first column is the size (the plot's x axis); every other column is one figure, plotted in a panel of its
/// own, so columns may have different units (name them with the unit, such as `build_ms` or `rss_mib`).
///
/// ```swift
/// var curve = CurveTable(name: "container-scale", columns: ["services", "load_build_ms", "first_get_ms"])
/// curve.add([1_000, 38.2, 2.1])
/// curve.finish()  // prints the table, writes Benchmarks/results/container-scale.csv
/// ```
public struct CurveTable: Sendable {
    /// The file stem of the CSV (and of the plot): `Benchmarks/results/NAME.csv`.
    public let name: String
    /// The column titles; the first is the size.
    public let columns: [String]
    /// The rows added so far.
    public private(set) var rows: [[Double]] = []

    /// Creates an empty curve.
    ///
    /// - Parameters:
    ///   - name: The file stem, such as `watch-etcd`.
    ///   - columns: The column titles, the size first.
    public init(name: String, columns: [String]) {
        precondition(columns.count >= 2, "a curve needs a size column and at least one figure")
        self.name = name
        self.columns = columns
    }

    /// Adds one row, one value per column.
    ///
    /// - Parameter row: The size, then the figures.
    public mutating func add(_ row: [Double]) {
        precondition(
            row.count == self.columns.count,
            "\(self.name): \(row.count) values for \(self.columns.count) columns"
        )
        self.rows.append(row)
    }

    /// The rows as a Markdown table.
    public var markdown: String {
        var lines = [
            "| " + self.columns.joined(separator: " | ") + " |",
            "|" + String(repeating: " --- |", count: self.columns.count),
        ]
        for row in self.rows {
            lines.append("| " + row.map(Self.text).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// The rows as CSV, a header line first.
    public var csv: String {
        ([self.columns.joined(separator: ",")] + self.rows.map { $0.map(Self.text).joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    /// Prints the table and writes the CSV into the results directory: `BEACON_BENCHMARK_RESULTS` if set, otherwise
    /// `Benchmarks/results` when run from the repository's root (as the README's commands are), otherwise the
    /// current directory.
    public func finish() {
        print("\n\(self.name):\n\(self.markdown)")
        let directory =
            ProcessInfo.processInfo.environment["BEACON_BENCHMARK_RESULTS"]
            ?? (FileManager.default.fileExists(atPath: "Benchmarks/Package.swift") ? "Benchmarks/results" : ".")
        let path = "\(directory)/\(self.name).csv"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try self.csv.write(toFile: path, atomically: true, encoding: .utf8)
            print("CSV: \(path)")
        } catch {
            print("CSV not written to \(path): \(error)")
        }
    }

    /// A value as the table shows it: whole numbers without decimals, others with up to three significant decimals.
    private static func text(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 4
        return String(format: "%.\(decimals)f", value)
    }
}

/// The process's resident memory, in mebibytes (`VmRSS` of `/proc/self/status`); `nan` where it cannot be read.
///
/// - Returns: The resident set size.
public func residentMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kib = Double(fields[1]) { return kib / 1_024 }
    }
    return .nan
}
