// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Rules about the package's sources that the compiler does not check.
@Suite("Source rules")
struct SourceRulesTests {
    /// The package's `Sources` directory, found from this file's path.
    private static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    /// The Swift files under `Sources`, by path relative to it, with their text.
    private static func swiftFiles() throws -> [(path: String, text: String)] {
        let root = self.sources.path
        let paths = try #require(FileManager.default.subpaths(atPath: root)).filter { $0.hasSuffix(".swift") }
        return try paths.sorted().map { ($0, try String(contentsOfFile: root + "/" + $0, encoding: .utf8)) }
    }

    @Test("base64 is Base64's and JSON is JSONReader's and JSONWriter's; Foundation's coders only for Codable types")
    func oneBase64AndOneJSON() throws {
        // Where Codable of the user's or the package's own types is the point.
        let coders: Set<String> = [
            "BeaconCache/CachePersistence.swift", "Beacon/ServiceInstance.swift", "Beacon/KeyValue+Codable.swift",
            "BeaconMemcached/MemcachedClient+Codable.swift",
        ]
        let files = try Self.swiftFiles()
        #expect(files.count > 100)
        for (path, text) in files {
            for banned in ["base64EncodedString", "base64Encoded:", "JSONSerialization"] {
                #expect(!text.contains(banned), "\(path) uses \(banned)")
            }
            if !coders.contains(path) {
                for coder in ["JSONDecoder", "JSONEncoder"] {
                    #expect(!text.contains(coder), "\(path) uses \(coder)")
                }
            }
        }
    }
}
