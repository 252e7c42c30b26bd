// SPDX-License-Identifier: Apache-2.0

import Beacon

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// A moment on the system's monotonic clock, in nanoseconds: the engine's deadlines and timestamps.
///
/// The engine keeps and compares several of these on every request. `ContinuousClock.Instant` is a resilient
/// type, whose copies of optionals go through the runtime's value witnesses; this one is two words of plain data.
struct MonotonicInstant: Comparable, Sendable {
    /// Nanoseconds since an arbitrary fixed point (the system's boot, on Linux).
    var nanoseconds: Int64

    /// The placeholder of instants that are not set yet: earlier than any reading of the clock.
    static let origin = MonotonicInstant(nanoseconds: 0)

    /// The current moment.
    static var now: MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }

    static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The moment `duration` after `instant`; saturates instead of overflowing.
    static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds.addingSaturated(duration.saturatedNanoseconds))
    }

    /// The time from `earlier` to `later` (negative when `later` comes first).
    static func - (later: MonotonicInstant, earlier: MonotonicInstant) -> Duration {
        .nanoseconds(later.nanoseconds.subtractingSaturated(earlier.nanoseconds))
    }

    /// The whole milliseconds from `self` to `later`, rounded up (a wait for them does not end early); 0 when
    /// `later` has come.
    func milliseconds(until later: MonotonicInstant) -> Int {
        let nanoseconds = later.nanoseconds.subtractingSaturated(self.nanoseconds)
        guard nanoseconds > 0 else { return 0 }
        return Int(nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 == 0 ? 0 : 1))
    }

    /// The moment this many milliseconds after `self`.
    func adding(milliseconds: Int) -> MonotonicInstant {
        let (product, overflow) = Int64(milliseconds).multipliedReportingOverflow(by: 1_000_000)
        return MonotonicInstant(nanoseconds: self.nanoseconds.addingSaturated(overflow ? .max : product))
    }
}

extension Int64 {
    fileprivate func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = self.addingReportingOverflow(other)
        return overflow ? (other < 0 ? .min : .max) : sum
    }

    fileprivate func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = self.subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
