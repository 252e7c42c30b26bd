// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The keys of the file source's JSON file, written as one flat map (`{"/beacon-bench/watch-scale/0": "...", ...}`).
final class FileValues {
    let path: String
    private var values: [String: String] = [:]

    init(path: String) {
        self.path = path
    }

    func set(_ key: String, _ value: String) {
        self.values[key] = value
    }

    /// Writes the file atomically (a temporary file, then a rename), as editors and deployment tools do.
    func write() throws {
        var text = "{\n"
        var first = true
        for (key, value) in self.values {
            if !first { text += ",\n" }
            first = false
            text += "\"\(key)\": \"\(value)\""
        }
        text += "\n}\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: self.path), options: .atomic)
    }
}
