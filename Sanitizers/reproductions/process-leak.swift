// SPDX-License-Identifier: Apache-2.0
//
// swift-corelibs-foundation 6.3's Process leaks on run(): LeakSanitizer reports the weak-reference side table that
// Process.run() forms, whatever the caller does. With Swift 6.3 on Linux:
//
//     swiftc -sanitize=address process-leak.swift -o process-leak
//     ASAN_OPTIONS=detect_leaks=1 ./process-leak
//     SUMMARY: AddressSanitizer: 32 byte(s) leaked in 1 allocation(s).
//       ... swift_weakAssign <- Foundation.Process.run()

import Foundation
final class Box: @unchecked Sendable { var done = false }
for _ in 0..<3 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    let box = Box()
    process.terminationHandler = { _ in box.done = true }
    try! process.run()
    process.waitUntilExit()
}
print("ok")
