// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import Logging

/// Makes the source a discovery URL names.
///
/// | URL | Source |
/// | --- | --- |
/// | `etcd://host:port[,host:port...]` | an etcd client over `http://` endpoints |
/// | `etcds://host:port[,host:port...]` | the same over `https://` |
/// | `file:///path/services.yaml` | a JSON or YAML file, re-read when it changes |
///
/// Credentials never go in the URL: an etcd user and password come from the configuration.
enum DiscoveryURL {
    static func makeSource(
        _ url: String,
        configuration: DiscoveryService.Configuration,
        logger: Logger
    ) throws -> (source: any DiscoverySource, client: EtcdClient?) {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw invalid(url, "a discovery URL starts with etcd://, etcds:// or file://")
        }
        let scheme = parts[0].lowercased()
        let rest = String(parts[1])
        switch scheme {
        case "etcd", "etcds":
            let hosts = rest.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingSuffix("/")
            }
            guard !hosts.isEmpty, hosts.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.contains("@") }) else {
                throw invalid(url, "an etcd URL lists host:port pairs separated by commas, with no path or user")
            }
            let httpScheme = scheme == "etcds" ? "https" : "http"
            var etcd = configuration.etcd
            etcd.endpoints = hosts.map { "\(httpScheme)://\($0)" }
            let client = try EtcdClient(configuration: etcd, logger: logger)
            return (client, client)
        case "file":
            guard rest.hasPrefix("/") else {
                throw invalid(url, "a file URL names an absolute path: file:///path/to/services.yaml")
            }
            return (try FileSource(path: rest, logger: logger), nil)
        case "zookeeper", "consul":
            throw invalid(url, "this build of Beacon has no \(scheme) client yet")
        default:
            throw invalid(url, "unknown scheme \"\(scheme)\": use etcd://, etcds:// or file://")
        }
    }

    private static func invalid(_ url: String, _ message: String) -> BeaconError {
        BeaconError(.invalidValue, message, text: url)
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var text = String(self)
        while text.last == suffix { text.removeLast() }
        return text
    }
}
