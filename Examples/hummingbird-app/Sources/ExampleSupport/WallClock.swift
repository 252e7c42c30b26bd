// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time, so that the app, the load generator and `scripts/demo` (bash's `$EPOCHREALTIME`) can compare
/// the moments they saw something.
public enum WallClock {
    /// Seconds since the Unix epoch, with microseconds.
    public static var now: Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// A wall-clock time as the tools print it: seconds since the epoch with three decimals.
    ///
    /// - Parameter seconds: Seconds since the epoch.
    /// - Returns: For example `1733450000.123`.
    public static func format(_ seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
