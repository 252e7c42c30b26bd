// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconCache
import BeaconHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// A caching source that persists its entries (a writer thread per write) while its `run()` goes.
enum CacheCensus {
    static func run(baseline: Threads) async throws {
        var template = Array("/tmp/beacon-thread-census-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Unexpected(description: "mkdtemp failed: errno \(errno)") }
        let directory = String(cString: made)
        defer { Self.remove(directory) }
        let base = StaticSource(["/thread-census/cache/a": "1", "/thread-census/cache/b": "2"])
        let source = CachingSource(
            base,
            name: "census",
            configuration: .init(ttl: .seconds(5), refreshAhead: 0.8, persistenceInterval: .zero),
            persistenceDirectory: directory
        )
        try await whileRunning(source) {
            _ = try await source.get("/thread-census/cache/a")
            _ = try await source.list(prefix: "/thread-census/cache/")
            await source.flush()
            print("cache, persisted: \(Threads.current().added(since: baseline))")
        }
        await source.flush()
    }

    /// Removes the directory and the files the cache wrote in it.
    static func remove(_ directory: String) {
        if let handle = opendir(directory) {
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(handle)
        }
        rmdir(directory)
    }
}

/// Beacon's HTTP client (the layer under the etcd and Consul clients) with a few requests.
enum HTTPCensus {
    static func run(_ environment: TestEnvironment, baseline: Threads) async throws {
        let client = HTTPClient()
        for _ in 0..<3 {
            let response = try await client.execute(HTTPRequest(url: environment.etcd + "/version"))
            guard response.status == 200 else { throw Unexpected(description: "etcd answered \(response.status)") }
        }
        print("http client: \(Threads.current().added(since: baseline))")
        client.close()
    }
}
