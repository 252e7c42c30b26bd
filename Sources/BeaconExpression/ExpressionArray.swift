// SPDX-License-Identifier: Apache-2.0

/// A PHP array: an ordered map from ``ExpressionArrayKey`` to ``ExpressionValue``.
///
/// Insertion order is kept; setting an existing key replaces its value in place. Lists (keys `0..<count` in
/// order) are stored without a key index, so reading `items[1]` is an array access.
public struct ExpressionArray: Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The keys, in order; empty while the array is a packed list.
    private var orderedKeys: [ExpressionArrayKey] = []
    /// The values, in order.
    private var orderedValues: [ExpressionValue] = []
    /// The position of each key; empty while the array is a packed list.
    private var positions: [ExpressionArrayKey: Int] = [:]
    /// Whether the keys are exactly `0..<count` in order (no key storage needed).
    private var packed = true
    /// PHP's `nNextFreeElement`: the key ``append(_:)`` uses.
    private var nextFreeIndex = 0

    /// Creates an empty array.
    public init() {}

    /// Creates a list (keys `0..<count`).
    ///
    /// - Parameter values: The elements, in order.
    public init(list values: [ExpressionValue]) {
        orderedValues = values
        nextFreeIndex = values.count
    }

    /// Creates a list from an array literal.
    ///
    /// - Parameter elements: The elements, in order.
    public init(arrayLiteral elements: ExpressionValue...) {
        self.init(list: elements)
    }

    /// Creates an array from key-value pairs; a repeated key keeps its first position and its last value.
    ///
    /// - Parameter entries: The pairs, in order.
    public init(entries: [(key: ExpressionArrayKey, value: ExpressionValue)]) {
        for entry in entries {
            self[entry.key] = entry.value
        }
    }

    /// The number of elements.
    public var count: Int { orderedValues.count }

    /// Whether the array has no elements.
    public var isEmpty: Bool { orderedValues.isEmpty }

    /// Whether the keys are `0..<count` in order (PHP's `array_is_list`).
    public var isList: Bool {
        if packed {
            return true
        }
        for (position, key) in orderedKeys.enumerated() where key != .int(position) {
            return false
        }
        return true
    }

    /// The keys, in order.
    public var keys: [ExpressionArrayKey] {
        packed ? (0..<orderedValues.count).map { .int($0) } : orderedKeys
    }

    /// The values, in order.
    public var values: [ExpressionValue] { orderedValues }

    /// The key-value pairs, in order.
    public var entries: [(key: ExpressionArrayKey, value: ExpressionValue)] {
        Array(zip(keys, orderedValues))
    }

    /// The key at a position.
    func key(at position: Int) -> ExpressionArrayKey {
        packed ? .int(position) : orderedKeys[position]
    }

    /// The value at a position.
    func value(at position: Int) -> ExpressionValue {
        orderedValues[position]
    }

    /// The position of a key, if present.
    func position(of key: ExpressionArrayKey) -> Int? {
        if packed {
            if case .int(let index) = key, index >= 0, index < orderedValues.count {
                return index
            }
            return nil
        }
        return positions[key]
    }

    /// Reads or writes the value for a key; writing `nil` removes the key (PHP's `unset`).
    ///
    /// - Parameter key: The key.
    public subscript(key: ExpressionArrayKey) -> ExpressionValue? {
        get {
            position(of: key).map { orderedValues[$0] }
        }
        set {
            guard let newValue else {
                remove(key)
                return
            }
            if let existing = position(of: key) {
                orderedValues[existing] = newValue
                return
            }
            if packed, key == .int(orderedValues.count) {
                orderedValues.append(newValue)
            } else {
                unpack()
                positions[key] = orderedValues.count
                orderedKeys.append(key)
                orderedValues.append(newValue)
            }
            if case .int(let index) = key, index >= nextFreeIndex {
                nextFreeIndex = index == Int.max ? index : index + 1
            }
        }
    }

    /// Appends a value under the next free integer key, as PHP's `$array[] = $value`.
    ///
    /// - Parameter value: The value to append.
    public mutating func append(_ value: ExpressionValue) {
        self[.int(nextFreeIndex)] = value
    }

    private mutating func remove(_ key: ExpressionArrayKey) {
        guard let removed = position(of: key) else { return }
        unpack()
        orderedKeys.remove(at: removed)
        orderedValues.remove(at: removed)
        positions[key] = nil
        for position in removed..<orderedKeys.count {
            positions[orderedKeys[position]] = position
        }
    }

    private mutating func unpack() {
        guard packed else { return }
        packed = false
        orderedKeys = (0..<orderedValues.count).map { .int($0) }
        positions.reserveCapacity(orderedValues.count + 1)
        for index in 0..<orderedValues.count {
            positions[.int(index)] = index
        }
    }

    /// A PHP-like rendering, for humans.
    public var description: String {
        let parts = entries.map { "\($0.key): \($0.value.debugDescription)" }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
