// SPDX-License-Identifier: Apache-2.0

// beacon-confd's two figures: how long rendering a large prefix takes, and how long a put in etcd takes to reach
// nginx's served upstream. Run both with Benchmarks/confd-nginx (it starts etcd, nginx and beacon-confd); alone,
// this program runs the render benchmark only:
//   swift run -c release --package-path Benchmarks --scratch-path Benchmarks/.build-bench ConfdBenchmarks

import Beacon
import BeaconConfd
import BenchmarkSupport
import Foundation

let environment = ProcessInfo.processInfo.environment

// MARK: Render time for a prefix of 10,000 keys

let keyCount = 10_000
let entries = (0..<keyCount).map { index in
    KeyValue(
        key: "/test/app-" + String(index + 100_000).dropFirst(),
        string: "10.\(index / 65_536).\(index / 256 % 256).\(index % 256):8080"
    )
}
let upstreamTemplate = try ConfdTemplate(
    text: "upstream backend {\n    {{#values(test)}}\n    server {{.}};\n    {{/values(test)}}\n}\n",
    path: "upstream.tmpl"
)

/// The floor: the same text built by a plain loop over the sorted entries, with no template and no key tree.
func plainUpstream(_ entries: [KeyValue]) -> String {
    var text = "upstream backend {\n"
    for entry in entries.sorted(by: { $0.key < $1.key }) {
        text += "    server " + entry.string + ";\n"
    }
    return text + "}\n"
}

if environment["BEACON_BENCH_MODE"] == nil {
    let rendered = try upstreamTemplate.render(TemplateData(entries: entries, prefix: "/"))
    precondition(rendered == plainUpstream(entries), "the template and the plain loop disagree")
    let render = Benchmark(iterations: 20, warmUpIterations: 3, rounds: 5)
    print("Rendering an upstream from \(keyCount) keys (key tree built from the entries, then the template):")
    let comparison = render.compare(
        "render \(keyCount) keys",
        subject: { try! upstreamTemplate.render(TemplateData(entries: entries, prefix: "/")) },
        baseline: { plainUpstream(entries) }
    )
    print("  \(comparison) (baseline: a plain string-building loop)")
    let data = TemplateData(entries: entries, prefix: "/")
    let templateOnly = render.measure("template only (key tree built once)") { try! upstreamTemplate.render(data) }
    print("  " + templateOnly.description)
}

// MARK: From a put in etcd to nginx serving the new upstream

guard let etcd = environment["BEACON_BENCH_ETCD"],
    let nginxPort = environment["BEACON_BENCH_NGINX_PORT"].flatMap(Int.init),
    let backends = environment["BEACON_BENCH_BACKENDS"]?.split(separator: ",").compactMap({ Int($0) }),
    backends.count >= 2, let key = environment["BEACON_BENCH_KEY"]
else {
    print("\n(put to nginx: run Benchmarks/confd-nginx, which starts etcd, nginx and beacon-confd)")
    exit(0)
}
let changes = Int(environment["BEACON_BENCH_CHANGES"] ?? "") ?? 100
let mode = environment["BEACON_BENCH_MODE"] ?? "confd"
let propagation = try await PropagationBenchmark(
    etcdEndpoint: etcd,
    key: key,
    nginxPort: nginxPort,
    backends: Array(backends.prefix(2))
)
let latencies = try await propagation.run(
    changes: changes,
    change: mode == "confd" ? .throughConfd : .byHand(environment["BEACON_BENCH_BASELINE_CMD"] ?? "")
)
print(PropagationBenchmark.summary(latencies, label: mode))
if environment["BEACON_BENCH_VERBOSE"] != nil {
    print(latencies.map { "\($0)" }.joined(separator: "\n"))
}
