// SPDX-License-Identifier: Apache-2.0

/// The lines that differ between a destination and what would replace it, for `-noop`: each removed line as
/// `-<line>: text` (its number in the old file) and each added line as `+<line>: text` (its number in the new file).
enum LineDiff {
    static func describe(old: String, new: String) -> [String] {
        let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false)
        let newLines = new.split(separator: "\n", omittingEmptySubsequences: false)
        var lines: [String] = []
        for change in newLines.difference(from: oldLines) {
            switch change {
            case .remove(let offset, let element, _): lines.append("-\(offset + 1): \(element)")
            case .insert(let offset, let element, _): lines.append("+\(offset + 1): \(element)")
            }
        }
        return lines
    }
}
