// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
import Logging

/// Prints where the demo app's database and memcached servers are, read through discovery.
@main
struct BeaconDemo {
    static let usage = """
        Usage: beacon-demo [--file PATH] [--watch]

        Prints the database endpoint (/db/main/endpoint) and the memcached servers (/memcached/servers/)
        found through discovery.

          --file PATH   read a JSON or YAML file instead of the bundled default
          --watch       keep running and print the services again whenever they change
          --help        show this text
        """

    static func main() async {
        var arguments = CommandLine.arguments.dropFirst()
        var path: String?
        var watch = false
        while let argument = arguments.popFirst() {
            switch argument {
            case "--file":
                guard let value = arguments.popFirst() else { fail("--file needs a path") }
                path = value
            case "--watch":
                watch = true
            case "--help", "-h":
                emit(usage)
                return
            default:
                fail("unknown argument \(argument)")
            }
        }

        do {
            let file = try path ?? defaultFile()
            // Reload problems (a file saved half-way, a syntax error) are logged to standard error.
            let logger = Logger(label: "beacon-demo", factory: { StreamLogHandler.standardError(label: $0) })
            let source = try FileSource(
                path: file,
                configuration: .init(pollInterval: .milliseconds(250)),
                logger: logger
            )
            emit("Source: \(file)")
            if watch {
                for try await snapshot in source.watch(prefix: "/") {
                    emit("--- generation \(source.generation)")
                    emit(describe(snapshot))
                }
            } else {
                emit(describe(try await source.snapshot(prefix: "/")))
            }
        } catch {
            fail("\(error)")
        }
    }

    /// The bundled default file, found next to the executable whatever the working directory.
    static func defaultFile() throws -> String {
        guard let url = Bundle.module.url(forResource: "beacon-demo", withExtension: "yaml") else {
            throw BeaconError(.unreadableFile, "the bundled default file is missing", file: "beacon-demo.yaml")
        }
        return url.path
    }

    /// Renders the services found in a snapshot of the whole source.
    static func describe(_ snapshot: DiscoverySnapshot) -> String {
        var lines: [String] = []
        if let entry = snapshot[key: "/db/main/endpoint"] {
            do {
                lines.append("Database:  \(try entry.endpoint(defaultPort: 5432))")
            } catch {
                lines.append("Database:  invalid: \(error)")
            }
        } else {
            lines.append("Database:  not configured (/db/main/endpoint is absent)")
        }
        let servers = snapshot.filter { $0.key.hasPrefix("/memcached/servers/") }
        if servers.isEmpty {
            lines.append("Memcached: no servers (/memcached/servers/ is empty)")
        }
        for entry in servers {
            do {
                lines.append("Memcached: \(try entry.endpoint(defaultPort: 11211))")
            } catch {
                lines.append("Memcached: invalid: \(error)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Writes a line to standard output at once (unbuffered), so `--watch` output reaches pipes and logs live.
    static func emit(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("beacon-demo: \(message)\n".utf8))
        exit(1)
    }
}
