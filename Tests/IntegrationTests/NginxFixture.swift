// SPDX-License-Identifier: Apache-2.0

import BeaconHTTP
import Foundation
import Logging

/// The nginx of `scripts/servers` (the proxy beacon-confd renders) and its four backends, each answering
/// `backend PORT`.
struct NginxFixture {
    let binary: String
    let prefix: String
    let port: Int
    let backendPorts: [Int]

    init() throws {
        self.binary = try TestServers.value("BEACON_NGINX_BINARY")
        self.prefix = try TestServers.value("BEACON_NGINX_PREFIX")
        self.port = Int(try TestServers.value("BEACON_NGINX_PORT")) ?? 0
        self.backendPorts = try TestServers.value("BEACON_NGINX_BACKEND_PORTS").split(separator: ",").compactMap {
            Int($0)
        }
    }

    /// The live configuration file, the destination of the tests' resources.
    var configuration: String { self.prefix + "/nginx.conf" }

    /// `nginx -t` on the staged file, as the resource's `check_cmd`.
    var checkCommand: String { "\(self.binary) -p \(self.prefix) -e logs/error.log -q -t -c {{.src}}" }

    /// `nginx -s reload` of the live configuration, as the resource's `reload_cmd`.
    var reloadCommand: String {
        "\(self.binary) -p \(self.prefix) -e logs/error.log -c \(self.configuration) -s reload"
    }

    /// The address of a backend, as a key's value.
    func backend(_ index: Int) -> String { "127.0.0.1:\(self.backendPorts[index])" }

    /// A whole nginx.conf whose upstream is rendered from the keys under `/test`, as in the story.
    var template: String {
        """
        worker_processes 1;
        error_log logs/error.log warn;
        pid nginx.pid;
        events { worker_connections 256; }
        http {
            access_log off;
            client_body_temp_path tmp/body;
            proxy_temp_path tmp/proxy;
            fastcgi_temp_path tmp/fastcgi;
            uwsgi_temp_path tmp/uwsgi;
            scgi_temp_path tmp/scgi;

            upstream backend {
                {{#values(test)}}
                server {{.}} max_fails=0;
                {{/values(test)}}
            }

            server {
                listen 127.0.0.1:\(self.port);
                location / {
                    proxy_pass http://backend;
                    add_header X-Upstream $upstream_addr;
                }
            }
        }

        """
    }

    /// Sends requests through nginx, each on a new connection, and returns the backend ports that answered
    /// (`nil` for a request that nginx answered itself, such as a 502 or the placeholder's 503).
    func backendsAnswering(_ requests: Int, client: HTTPClient) async throws -> [Int?] {
        var answers: [Int?] = []
        for _ in 0..<requests {
            let response = try await client.execute(
                HTTPRequest(
                    method: "GET",
                    url: "http://127.0.0.1:\(self.port)/",
                    headers: [("Connection", "close")],
                    timeout: .seconds(5)
                )
            )
            let body = String(decoding: response.body, as: UTF8.self)
            answers.append(
                response.status == 200 && body.hasPrefix("backend ")
                    ? Int(body.dropFirst("backend ".count).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            )
        }
        return answers
    }

    /// The set of backends that answer a round of requests (round robin over at most four servers: eight requests
    /// reach each of them).
    func servingSet(client: HTTPClient) async throws -> Set<Int?> {
        Set(try await self.backendsAnswering(8, client: client))
    }
}
