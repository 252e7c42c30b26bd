// SPDX-License-Identifier: Apache-2.0

/// The slots built from one slot: a set of slot numbers that keeps up to two inline, so the usual first build
/// of a service with one or two dependents allocates nothing for it.
struct Dependents: Sendable {
    private var first = -1
    private var second = -1
    private var more: Set<Int> = []

    /// Adds `slot` (a slot number, never negative) unless it is present.
    mutating func insert(_ slot: Int) {
        if first == slot || second == slot {
            return
        }
        if first < 0 {
            first = slot
        } else if second < 0 {
            second = slot
        } else {
            more.insert(slot)
        }
    }

    /// The slots, in no particular order.
    var elements: [Int] {
        var elements: [Int] = []
        if first >= 0 {
            elements.append(first)
        }
        if second >= 0 {
            elements.append(second)
        }
        elements.append(contentsOf: more)
        return elements
    }
}
