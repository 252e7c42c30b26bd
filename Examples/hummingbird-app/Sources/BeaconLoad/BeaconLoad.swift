// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconEtcd
import ExampleSupport
import Foundation
import Logging
import NIOHTTP1

/// beacon-load: bounded HTTP load on the app instances it finds through Beacon, or on one address (a proxy in front of
/// them).
@main
enum BeaconLoad {
    static let options: [Option] = [
        Option(
            "etcd",
            environment: "BEACON_LOAD_ETCD",
            defaultValue: "127.0.0.1:23790",
            help: "etcd endpoints (host:port, comma-separated) where the instances are registered."
        ),
        Option(
            "service",
            environment: "BEACON_LOAD_SERVICE",
            defaultValue: "beacon-app",
            help: "The service whose instances get the load: /services/<service>/."
        ),
        Option("rate", environment: "BEACON_LOAD_RATE", defaultValue: "40", help: "Requests per second."),
        Option(
            "duration",
            environment: "BEACON_LOAD_DURATION",
            defaultValue: "10",
            help: "Seconds of load; the run stops after this, whatever --requests says."
        ),
        Option(
            "requests",
            environment: "BEACON_LOAD_REQUESTS",
            defaultValue: "0",
            help: "Stop after this many requests (0: only the duration bounds the run)."
        ),
        Option(
            "concurrency",
            environment: "BEACON_LOAD_CONCURRENCY",
            defaultValue: "256",
            help: "The most requests in flight; past it, sending waits (the rate drops). The default is more than "
                + "the rate times the timeout, so that slow answers do not slow the sending."
        ),
        Option(
            "timeout",
            environment: "BEACON_LOAD_TIMEOUT",
            defaultValue: "3",
            help: "Seconds a request may take, connection included, before it counts as an error."
        ),
        Option("slice", environment: "BEACON_LOAD_SLICE", defaultValue: "1", help: "Seconds per reported slice."),
        Option(
            "keys",
            environment: "BEACON_LOAD_KEYS",
            defaultValue: "200",
            help: "Items /items/1 to /items/<keys> are read and written."
        ),
        Option(
            "write-ratio",
            environment: "BEACON_LOAD_WRITE_RATIO",
            defaultValue: "0.2",
            help: "The share of requests that are writes (PUT); the rest are reads (GET)."
        ),
        Option(
            "workers",
            environment: "BEACON_LOAD_WORKERS",
            defaultValue: "0",
            help:
                "Above 0: closed-loop latency mode. This many workers, each on one keep-alive connection to --target, "
                + "send GET /items/<random key> one after another for --warmup, then --duration seconds; one line "
                + "reports the measured window (count, errors, throughput, p50 and p99 latency). etcd is not used."
        ),
        Option(
            "target",
            environment: "BEACON_LOAD_TARGET",
            help: "Closed-loop mode: the app instance (host:port). Without --workers: one address (host:port, such as "
                + "nginx in front of the instances) that gets the load instead of the registered instances; etcd is "
                + "not used, and answers count for the instance their x-instance header names."
        ),
        Option(
            "warmup",
            environment: "BEACON_LOAD_WARMUP",
            defaultValue: "2",
            help: "Closed-loop mode: seconds of load before the measured window."
        ),
        Option(
            "app-pid",
            environment: "BEACON_LOAD_APP_PID",
            help: "Closed-loop mode: the app's process id; its CPU time (user + system, /proc/<pid>/stat) over the "
                + "measured window is reported, in total and per request."
        ),
    ]

    static let about = """
        Sends bounded HTTP load to the instances of a service registered in etcd (ServiceInstance JSON under
        /services/<service>/), taking them in turn, and follows the set as instances come and go (a watch of the
        prefix). It prints one line per event: the instance set when it changes, each failed request (with the
        instance and the error), and a summary per time slice. It stops after --duration seconds (or --requests
        requests) and exits 0 when no request failed, 1 otherwise.
        With --target host:port (and no --workers) the same load goes to that one address instead, such as a proxy in
        front of the instances; each answer counts for the instance its x-instance header names.
        With --workers N and --target host:port it measures latency instead: N workers in a closed loop on
        keep-alive connections to one instance, and one line `load: latency ... count= errors= throughput=
        p50_us= p99_us=` for the window after the warm-up (see Benchmarks/app-wiring).
        """

    static func main() async {
        do {
            let flags = try Flags(
                options: options,
                arguments: Array(CommandLine.arguments.dropFirst()),
                environment: ProcessInfo.processInfo.environment
            )
            if flags.wantsHelp {
                print(flags.help(usage: "beacon-load [OPTIONS]", about: about))
                return
            }
            let configuration = try LoadConfiguration(flags: flags)
            let errors: Int
            if let closedLoop = configuration.closedLoop {
                errors = await closedLoop.run(report: LoadReport())
            } else {
                errors = try await run(configuration, summary: flags.summary)
            }
            exit(errors == 0 ? 0 : 1)
        } catch {
            FileHandle.standardError.write(Data("beacon-load: \(error)\n".utf8))
            exit(2)
        }
    }

    static func run(_ configuration: LoadConfiguration, summary: String) async throws -> Int {
        let logger = {
            var logger = Logger(label: "beacon-load")
            logger.logLevel = .info
            return logger
        }()
        let report = LoadReport()
        // With --target every request goes there, and etcd is not asked.
        let etcd =
            configuration.target == nil
            ? try EtcdClient(
                configuration: EtcdClient.Configuration(endpoints: configuration.etcdEndpoints.map { "http://\($0)" }),
                logger: logger
            ) : nil
        defer { etcd?.close() }
        let instances = InstanceSet(report: report)
        let probe = HTTPProbe(timeout: configuration.timeout)
        report.line("start", summary)

        return await withTaskGroup(of: Void.self) { background in
            if let etcd {
                background.addTask { await instances.follow(etcd, service: configuration.service, logger: logger) }
                // Wait briefly for the first snapshot, so that the first requests have somewhere to go.
                let waitUntil = ContinuousClock.now + .seconds(2)
                while instances.current.isEmpty && ContinuousClock.now < waitUntil {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }

            let start = ContinuousClock.now
            let startWall = WallClock.now
            background.addTask {
                var number = 1
                while !Task.isCancelled {
                    try? await Task.sleep(until: start + configuration.slice * number, clock: .continuous)
                    if Task.isCancelled { return }
                    report.endSlice(elapsed: WallClock.now - startWall)
                    number += 1
                }
            }

            await withTaskGroup(of: Void.self) { requests in
                var inFlight = 0
                var number = 0
                let interval = Duration.seconds(1) / configuration.rate
                let end = start + configuration.duration
                while configuration.requests == 0 || number < configuration.requests {
                    let due = start + interval * number
                    guard due < end else { break }
                    try? await Task.sleep(until: due, clock: .continuous)
                    while inFlight >= configuration.concurrency {
                        await requests.next()
                        inFlight -= 1
                    }
                    number += 1
                    let request = configuration.request(number: number)
                    report.sent()
                    let sentAt = WallClock.now
                    let destination: (id: String, endpoint: Endpoint)
                    if let target = configuration.target {
                        destination = (target.description, target)
                    } else if let instance = instances.next() {
                        destination = (instance.id, instance.endpoint)
                    } else {
                        report.failed(
                            instance: "-",
                            request: request.description,
                            sentAt: sentAt,
                            error: "no instance is registered"
                        )
                        continue
                    }
                    inFlight += 1
                    requests.addTask {
                        do {
                            let answer = try await probe.send(
                                method: request.method,
                                host: destination.endpoint.host,
                                port: destination.endpoint.port,
                                path: request.path,
                                body: request.body
                            )
                            if [200, 201, 204, 404].contains(answer.status) {
                                // Through a proxy, the instance behind it says who it is.
                                let instance = configuration.target == nil ? destination.id : answer.instance
                                report.answered(by: instance ?? destination.id)
                            } else {
                                let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
                                report.failed(
                                    instance: destination.id,
                                    request: request.description,
                                    sentAt: sentAt,
                                    error: "HTTP \(answer.status): \(text)"
                                )
                            }
                        } catch {
                            report.failed(
                                instance: destination.id,
                                request: request.description,
                                sentAt: sentAt,
                                error: "\(error)"
                            )
                        }
                    }
                }
            }
            let elapsed = WallClock.now - startWall
            background.cancelAll()
            report.endSlice(elapsed: elapsed)
            return report.finish(elapsed: elapsed)
        }
    }
}

/// The generator's settings.
struct LoadConfiguration: Sendable {
    struct Request: CustomStringConvertible {
        var method: HTTPMethod
        var path: String
        var body: [UInt8]?

        var description: String { "\(method.rawValue) \(path)" }
    }

    var etcdEndpoints: [String]
    var service: String
    var rate: Double
    var duration: Duration
    var requests: Int
    var concurrency: Int
    var timeout: Duration
    var slice: Duration
    var keys: Int
    var writeRatio: Double
    /// The one address that gets every request (`--target` without `--workers`), else `nil`: the registered instances.
    var target: Endpoint?
    /// Closed-loop latency mode (`--workers` above 0), else `nil`.
    var closedLoop: ClosedLoop?

    init(flags: Flags) throws {
        etcdEndpoints = try flags.require("etcd").split(separator: ",").map {
            String($0.trimmingPrefix("http://"))
        }
        service = try flags.require("service")
        rate = try flags.double("rate")
        duration = try flags.seconds("duration")
        requests = try flags.int("requests")
        concurrency = try flags.int("concurrency")
        timeout = try flags.seconds("timeout")
        slice = try flags.seconds("slice")
        keys = try flags.int("keys")
        writeRatio = try flags.double("write-ratio")
        guard rate > 0, rate <= 10_000 else { throw FlagError("--rate is between 0 and 10000 requests per second") }
        guard duration > .zero, duration <= .seconds(3600) else {
            throw FlagError("--duration is between 0 and 3600 seconds: the load always stops by itself")
        }
        guard requests >= 0, concurrency >= 1, keys >= 1, slice > .zero, timeout > .zero else {
            throw FlagError("--requests, --concurrency, --keys, --slice and --timeout must be positive")
        }
        guard (0...1).contains(writeRatio) else { throw FlagError("--write-ratio is between 0 and 1") }
        let workers = try flags.int("workers")
        guard (0...1024).contains(workers) else { throw FlagError("--workers is between 0 and 1024") }
        if let text = flags.string("target"), !text.isEmpty {
            target = try Endpoint(parsing: text)
        }
        if workers > 0 {
            guard let target else {
                throw FlagError("--workers needs --target host:port")
            }
            var appPID: Int?
            if let pid = flags.string("app-pid"), !pid.isEmpty {
                appPID = try flags.int("app-pid")
            }
            closedLoop = ClosedLoop(
                target: target,
                workers: workers,
                warmup: try flags.seconds("warmup"),
                duration: duration,
                keys: keys,
                appPID: appPID,
                probe: HTTPProbe(timeout: timeout)
            )
        }
    }

    /// The request number `number`: a read or a write of a random item.
    func request(number: Int) -> Request {
        let key = Int.random(in: 1...keys)
        if Double.random(in: 0..<1) < writeRatio {
            return Request(method: .PUT, path: "/items/\(key)", body: Array("value \(number)".utf8))
        }
        return Request(method: .GET, path: "/items/\(key)")
    }
}
