// SPDX-License-Identifier: Apache-2.0

import ExampleSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the generator prints on standard output, one event per line, as `load: <kind> key=value...`:
///
/// - `load: start at=<t> service=<name> rate=<n> ...`
/// - `load: instances at=<t> count=<n> ids=<a,b> added=<ids> removed=<ids>`: the instance set as seen at `at`
/// - `load: error at=<t> sent_at=<t> instance=<id> request="GET /items/7" error="..."`: one failed request
/// - `load: slice at=<t> t=<seconds> sent=<n> ok=<n> errors=<n> answers=<id:n,...>`: one time slice
/// - `load: done at=<t> sent=<n> ok=<n> errors=<n> elapsed=<seconds> instances=<id:n,...>`
///
/// Times `<t>` are wall-clock seconds since the epoch (three decimals), so that they compare with other tools'.
/// A slice counts the requests sent during it, and the answers and errors that came back during it.
final class LoadReport: Sendable {
    private struct Counts {
        var sent = 0
        var ok = 0
        var errors = 0
        var answers: [String: Int] = [:]
    }

    private struct State {
        var slice = Counts()
        var total = Counts()
    }

    private let state = Mutex(State())
    private let output = Mutex(())

    init() {}

    func line(_ kind: String, _ fields: String) {
        write("load: \(kind) at=\(WallClock.format(WallClock.now)) \(fields)")
    }

    /// Writes one whole line to standard output at once (unbuffered, so a file shows it as it happens).
    private func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        output.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    func sent() {
        state.withLock {
            $0.slice.sent += 1
            $0.total.sent += 1
        }
    }

    func answered(by instance: String) {
        state.withLock {
            $0.slice.ok += 1
            $0.total.ok += 1
            $0.slice.answers[instance, default: 0] += 1
            $0.total.answers[instance, default: 0] += 1
        }
    }

    func failed(instance: String, request: String, sentAt: Double, error: String) {
        state.withLock {
            $0.slice.errors += 1
            $0.total.errors += 1
        }
        line(
            "error",
            "sent_at=\(WallClock.format(sentAt)) instance=\(instance) request=\(Self.quoted(request)) "
                + "error=\(Self.quoted(error))"
        )
    }

    func instancesChanged(at seenAt: Double, ids: [String], added: [String], removed: [String], initial: Bool) {
        write(
            "load: instances at=\(WallClock.format(seenAt)) count=\(ids.count) ids=\(ids.joined(separator: ",")) "
                + "added=\(added.joined(separator: ",")) removed=\(removed.joined(separator: ","))"
                + (initial ? " initial=yes" : "")
        )
    }

    /// Prints the slice that just ended and starts the next.
    func endSlice(elapsed: Double) {
        let slice = state.withLock { state in
            defer { state.slice = Counts() }
            return state.slice
        }
        line(
            "slice",
            "t=\(Self.seconds(elapsed)) sent=\(slice.sent) ok=\(slice.ok) errors=\(slice.errors) "
                + "answers=\(Self.perInstance(slice.answers))"
        )
    }

    /// Prints the totals; returns the number of errors.
    func finish(elapsed: Double) -> Int {
        let total = state.withLock { $0.total }
        line(
            "done",
            "sent=\(total.sent) ok=\(total.ok) errors=\(total.errors) elapsed=\(Self.seconds(elapsed)) "
                + "answers=\(Self.perInstance(total.answers))"
        )
        return total.errors
    }

    private static func perInstance(_ answers: [String: Int]) -> String {
        answers.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }

    private static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func quoted(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ")
        return "\"\(flat.count > 300 ? String(flat.prefix(300)) + "..." : flat)\""
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
