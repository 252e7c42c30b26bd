// SPDX-License-Identifier: Apache-2.0

import Yams

/// The YAML 1.1 type of a scalar (null, bool, int, float or string), as Yams's default resolver gives it, at a
/// fraction of its cost.
///
/// The loader composes with Yams's `basic` resolver, which types nothing: the default one tries seven regular
/// expressions on every plain scalar, and on every map key again for the duplicate-key check, which made it most
/// of a large file's load time. Each of those expressions is anchored at the start and can only match a text that
/// begins with one of a few characters (a digit, a sign, `.`, `~`, `<`, `=`, or the first letter of `yes`, `no`,
/// `true`, `false`, `on`, `off`, `null`), or the empty text. Any other plain scalar is a string, decided here from
/// its first byte; the rest, and explicitly tagged scalars, are asked of the default resolver, so the answer is its
/// answer in every case.
enum YAMLScalarTag {
    /// The first bytes with which one of the default resolver's rules can match.
    private static let typedFirstBytes: Set<UInt8> = Set("0123456789+-.~<=yYnNtTfFoO".utf8)

    /// The resolved tag of a scalar node: `tag.name` for quoted or explicitly tagged scalars, the default
    /// resolver's type for a plain one.
    ///
    /// - Parameter node: A node composed with the `basic` resolver.
    /// - Returns: The tag name the default resolver would have given it.
    static func name(of node: Node) -> Tag.Name {
        guard case .scalar(let scalar) = node else { return Tag.Name(rawValue: node.tag.rawValue) }
        let written = Tag.Name(rawValue: scalar.tag.rawValue)
        guard written == .implicit else { return written }
        if let first = scalar.string.utf8.first, !typedFirstBytes.contains(first) { return .str }
        return Yams.Resolver.default.resolveTag(of: node)
    }
}
