// SPDX-License-Identifier: Apache-2.0

/// The services being built by one chain of resolutions, outermost first: for the cycle check and to record
/// the requester (the last one) as a dependent. Up to four slots are kept inline, so the usual chain allocates
/// nothing and copying it counts no references.
@usableFromInline
struct ResolutionPath: Sendable {
    private static let inlineCapacity = 4

    /// An empty path: a `get` from outside any construction.
    @usableFromInline
    init() {}

    private(set) var count = 0
    private var inline: (Int, Int, Int, Int) = (0, 0, 0, 0)
    private var overflow: [Int]?

    /// The slot at `position` (0 is the outermost).
    private func slot(at position: Int) -> Int {
        switch position {
        case 0: inline.0
        case 1: inline.1
        case 2: inline.2
        case 3: inline.3
        default: overflow?[position - Self.inlineCapacity] ?? -1
        }
    }

    /// The service being built by the resolver that holds this path, if any.
    var last: Int? {
        count == 0 ? nil : slot(at: count - 1)
    }

    /// The position of `slot` in the path, if it is being built by this chain.
    func firstIndex(of slot: Int) -> Int? {
        for position in 0..<count where self.slot(at: position) == slot {
            return position
        }
        return nil
    }

    /// This path with `slot` appended.
    func appending(_ slot: Int) -> ResolutionPath {
        var path = self
        switch count {
        case 0: path.inline.0 = slot
        case 1: path.inline.1 = slot
        case 2: path.inline.2 = slot
        case 3: path.inline.3 = slot
        default: path.overflow = (overflow ?? []) + [slot]
        }
        path.count += 1
        return path
    }

    /// The slots from `position` to the end.
    func slots(from position: Int) -> [Int] {
        (position..<count).map { slot(at: $0) }
    }
}
