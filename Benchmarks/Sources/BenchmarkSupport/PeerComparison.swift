// SPDX-License-Identifier: Apache-2.0

// A comparison of Beacon with a Swift library a user would pick instead (the peer), in alternating rounds: the same
// table as `report`, and the ratios both ways (our time over the peer's, our throughput over the peer's).

/// Prints each side's medians over the rounds, and Beacon's ratios to the peer, round by round (each Beacon round
/// against the peer round run just before it), as their median and their range.
///
/// - Parameters:
///   - title: What is compared.
///   - peer: The other library's side.
///   - ours: Beacon's side.
public func reportPeer(_ title: String, peer: Side, ours: Side) {
    guard !peer.rounds.isEmpty || !ours.rounds.isEmpty else { return }
    print("\n\(title): medians over \(max(peer.rounds.count, ours.rounds.count)) alternating rounds")
    print("| | p50 | p99 | requests/s | CPU per request |")
    print("| --- | --- | --- | --- | --- |")
    for side in [ours, peer] where !side.rounds.isEmpty {
        print(
            "| \(side.name) | \(format(side.median(\.p50))) µs | \(format(side.median(\.p99))) µs "
                + "| \(format(side.median(\.rate), 0)) | \(format(side.median(\.cpuPerRequest))) µs |"
        )
    }
    guard !peer.rounds.isEmpty && !ours.rounds.isEmpty else { return }
    let pairs = Array(zip(peer.rounds, ours.rounds))
    func ratio(_ values: [Double]) -> String {
        "\(format(median(values), 2)) (\(format(values.min()!, 2))–\(format(values.max()!, 2)))"
    }
    print(
        "ratio Beacon/peer, median of the rounds' ratios (range): time (wall clock per request) "
            + "\(ratio(pairs.map { $0.rate / $1.rate })), throughput \(ratio(pairs.map { $1.rate / $0.rate })), "
            + "p50 \(ratio(pairs.map { $1.p50 / $0.p50 })), p99 \(ratio(pairs.map { $1.p99 / $0.p99 })), "
            + "CPU per request \(ratio(pairs.map { $1.cpuPerRequest / $0.cpuPerRequest }))"
    )
}
