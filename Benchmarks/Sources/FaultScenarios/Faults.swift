// SPDX-License-Identifier: Apache-2.0

/// The faults: `scripts/servers` freezes, thaws, stops and starts instances; `iptables` drops the loopback traffic of
/// one port (a partition: the server runs on, its clients hear nothing). `scripts/faults` runs everything in a private
/// network namespace, so these rules and signals reach only the servers it started.
enum Faults {
    /// Runs `scripts/servers` with arguments.
    static func servers(_ arguments: [String]) async throws {
        try await Command.run([try Environment.value("BEACON_SERVERS_SCRIPT")] + arguments)
    }

    /// SIGSTOPs an instance's processes.
    static func freeze(_ instances: [String]) async throws {
        try await Command.run(try self.script("freeze", instances))
    }

    /// SIGCONTs an instance's processes.
    static func thaw(_ instances: [String]) async throws { try await Command.run(try self.script("thaw", instances)) }

    private static func script(_ command: String, _ instances: [String]) throws -> [String] {
        [try Environment.value("BEACON_SERVERS_SCRIPT"), command] + instances
    }

    /// Drops every TCP packet to or from `port` on loopback, both ways: the server runs on, its clients hear nothing.
    static func partition(port: Int) async throws {
        for rule in self.dropRules(port) { try await Command.run(["iptables", "-w", "-I", "INPUT"] + rule) }
    }

    /// Removes the rules of ``partition(port:)``.
    static func heal(port: Int) async throws {
        for rule in self.dropRules(port) { try await Command.run(["iptables", "-w", "-D", "INPUT"] + rule) }
    }

    private static func dropRules(_ port: Int) -> [[String]] {
        [["-p", "tcp", "--dport", String(port), "-j", "DROP"], ["-p", "tcp", "--sport", String(port), "-j", "DROP"]]
    }

    /// Drops every packet of the connections made to `port` and redirected by ``redirect(_:to:)``, both ways: the
    /// clients that connect through the redirect are cut off, those that connect to the server directly are not.
    ///
    /// Matches conntrack's original destination port, which the redirect's NAT records when each connection opens.
    static func partition(redirected port: Int) async throws {
        try await Command.run(["iptables", "-w", "-I", "INPUT"] + self.redirectedDropRule(port))
    }

    /// Removes the rule of ``partition(redirected:)``.
    static func heal(redirected port: Int) async throws {
        try await Command.run(["iptables", "-w", "-D", "INPUT"] + self.redirectedDropRule(port))
    }

    private static func redirectedDropRule(_ port: Int) -> [String] {
        ["-p", "tcp", "-m", "conntrack", "--ctorigdstport", String(port), "-j", "DROP"]
    }

    /// Makes connections to `port` on 127.0.0.1 reach `target` instead: a second address of one server, so that one
    /// client can be cut off from it (``partition(redirected:)``) while another still reaches it. Set it up before the
    /// client connects.
    static func redirect(_ port: Int, to target: Int) async throws {
        try await Command.run(["iptables", "-w", "-t", "nat", "-I", "OUTPUT"] + self.redirectRule(port, target))
    }

    /// Removes the rule of ``redirect(_:to:)``.
    static func removeRedirect(_ port: Int, to target: Int) async throws {
        try await Command.run(["iptables", "-w", "-t", "nat", "-D", "OUTPUT"] + self.redirectRule(port, target))
    }

    private static func redirectRule(_ port: Int, _ target: Int) -> [String] {
        ["-p", "tcp", "-d", "127.0.0.1", "--dport", String(port), "-j", "REDIRECT", "--to-ports", String(target)]
    }
}

/// A fault: how it is injected and how it ends.
struct Fault: Sendable {
    /// Injects the fault.
    var inject: @Sendable () async throws -> Void
    /// Ends it.
    var end: @Sendable () async throws -> Void

    /// Instances frozen with SIGSTOP, then thawed.
    static func frozen(_ instances: [String]) -> Fault {
        Fault(inject: { try await Faults.freeze(instances) }, end: { try await Faults.thaw(instances) })
    }

    /// Instances stopped (their data kept), then started again.
    static func stopped(_ instances: [String]) -> Fault {
        Fault(
            inject: { try await Faults.servers(["stop"] + instances) },
            end: { try await Faults.servers(["start"] + instances) }
        )
    }

    /// A port cut off (see ``Faults/partition(port:)``), then reachable again.
    static func partitioned(port: Int) -> Fault {
        Fault(inject: { try await Faults.partition(port: port) }, end: { try await Faults.heal(port: port) })
    }

    /// The connections made through a redirected port cut off (see ``Faults/partition(redirected:)``).
    static func partitioned(redirected port: Int) -> Fault {
        Fault(
            inject: { try await Faults.partition(redirected: port) },
            end: { try await Faults.heal(redirected: port) }
        )
    }

    /// Runs `body` with the fault on: injected first, ended afterwards whether `body` returned, threw or was
    /// cancelled (the end runs in a task of its own, which cancellation does not reach).
    func during<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await self.inject()
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        try await Task { [end] in try await end() }.value
        return try result.get()
    }
}

/// Runs `body`, cancelling it when `limit` has passed.
///
/// - Throws: ``TimeLimitExceeded`` at the limit, or what `body` threw.
func withTimeLimit<T: Sendable>(
    _ limit: Duration,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimeLimitExceeded(limit: limit) }
        return value
    }
}

/// A scenario ran past its hard limit and was cancelled.
struct TimeLimitExceeded: Error, CustomStringConvertible {
    /// The limit.
    var limit: Duration
    /// A readable account of the failure.
    var description: String { "stopped at its time limit of \(self.limit.seconds)" }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
///
/// - Returns: Whether it held.
func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if (try? await condition()) == true { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(20))
    }
}
