// SPDX-License-Identifier: Apache-2.0

import BeaconExpression

/// The services resolved for one evaluation of an expression, as expressions see them: the first is kept
/// inline, so the usual expression with one `service()` call allocates nothing for them.
struct ResolvedServices: Sendable {
    private var first: (slot: Int, value: ExpressionValue)?
    private var more: [(slot: Int, value: ExpressionValue)] = []

    /// Adds the value of `slot`.
    mutating func append(_ slot: Int, _ value: ExpressionValue) {
        if first == nil {
            first = (slot, value)
        } else {
            more.append((slot, value))
        }
    }

    /// The value of `slot`, if it was resolved.
    func value(of slot: Int) -> ExpressionValue? {
        if let first, first.slot == slot {
            return first.value
        }
        for entry in more where entry.slot == slot {
            return entry.value
        }
        return nil
    }
}
