// SPDX-License-Identifier: Apache-2.0
//
// LeakSanitizer reports objects reached only through a Swift enum value as leaked: Swift keeps the enum's case in
// the spare bits of the payload pointer, and LeakSanitizer does not recognise such a tagged pointer. Every node
// below stays referenced from a global dictionary until the process exits, yet with Swift 6.3 on Linux:
//
//     swiftc -sanitize=address enum-payload-leak.swift -o enum-payload-leak
//     ASAN_OPTIONS=detect_leaks=1 ./enum-payload-leak
//     SUMMARY: AddressSanitizer: 21536 byte(s) leaked in 598 allocation(s).

indirect enum Node: Sendable {
    case number(Int)
    case binary(String, Node, Node)
    case unary(String, Node)
    case name(String)
}
final class Holder: @unchecked Sendable { var nodes: [String: Node] = [:] }
let holder = Holder()
for i in 0..<100 {
    holder.nodes["k\(i)"] = .binary("+", .unary("-", .number(i)), .binary("*", .name("a"), .number(2)))
}
print(holder.nodes.count)
