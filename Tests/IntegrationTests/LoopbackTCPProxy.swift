// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import LoopbackServer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A TCP proxy on a loopback port to a server, which keeps every byte its clients sent and can freeze as a server
/// stopped with `SIGSTOP` does.
///
/// One thread of its own accepts connections, opens one to the server for each and copies bytes both ways. A test
/// reads what a client put on the wire with ``clientBytes`` (such as the token in an etcd request's `Authorization`
/// header). While frozen (``freeze()``) the proxy accepts nothing and copies nothing, and every connection stays
/// open: the kernel still completes new handshakes into the listen backlog, as it does for a stopped server, so a
/// PostgreSQL query and libpq's cancel request (sent to the same host and port) both go unanswered. ``thaw()``
/// resumes. ``stop()`` ends the thread within 50 milliseconds and closes every socket, which resets the connections
/// still waiting in the backlog. The thread keeps the proxy alive until then: always call ``stop()``.
final class LoopbackTCPProxy: Sendable {
    /// The port the proxy listens on, on 127.0.0.1.
    let port: Int
    /// Where the proxy listens.
    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: self.port) }

    private let target: Endpoint
    private let listener: Int32
    private let frozen = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let accepted = Atomic<Int>(0)
    private let sent = Lock<[UInt8]>([])
    private let thread: Lock<pthread_t?>

    /// Starts a proxy to a server given by a numeric IPv4 address.
    ///
    /// - Parameter target: The server.
    /// - Throws: ``LoopbackSocketFailure`` when the socket cannot be set up, ``ServeThreadFailure`` when the thread
    ///   cannot be started.
    init(to target: Endpoint) throws {
        let (descriptor, port) = try LoopbackSocket.make(listening: true)
        self.listener = descriptor
        self.port = port
        self.target = target
        self.thread = Lock(nil)
        switch ServeThread.start({ self.serve() }) {
        case .success(let thread):
            self.thread.withLock { $0 = thread }
        case .failure(let failure):
            close(descriptor)
            throw failure
        }
    }

    /// Everything the clients sent so far, decoded as UTF-8.
    var clientBytes: String { String(decoding: self.sent.withLock { $0 }, as: UTF8.self) }

    /// The values of the header `name` in the HTTP requests the clients sent so far.
    func headerValues(_ name: String) -> [String] {
        let prefix = name.lowercased() + ":"
        return self.clientBytes.split(separator: "\r\n").compactMap { line in
            guard line.lowercased().hasPrefix(prefix) else { return nil }
            return String(line.dropFirst(prefix.count).drop { $0 == " " })
        }
    }

    /// How many connections the proxy accepted so far.
    var acceptedCount: Int { self.accepted.load(ordering: .relaxed) }

    /// Stops accepting and copying; every connection stays open.
    func freeze() {
        self.frozen.store(true, ordering: .relaxed)
    }

    /// Accepts and copies again.
    func thaw() {
        self.frozen.store(false, ordering: .relaxed)
    }

    /// Stops the thread and closes every socket. Calling it again does nothing.
    func stop() {
        self.stopping.store(true, ordering: .relaxed)
        let thread = self.thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        if let thread {
            pthread_join(thread, nil)
        }
    }

    private func serve() {
        var pairs: [(Int32, Int32)] = []
        defer {
            for (client, server) in pairs {
                close(client)
                close(server)
            }
            close(self.listener)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !self.stopping.load(ordering: .relaxed) {
            if self.frozen.load(ordering: .relaxed) {
                usleep(20_000)
                continue
            }
            var entries = [pollfd(fd: self.listener, events: Int16(POLLIN), revents: 0)]
            for (client, server) in pairs {
                entries.append(pollfd(fd: client, events: Int16(POLLIN), revents: 0))
                entries.append(pollfd(fd: server, events: Int16(POLLIN), revents: 0))
            }
            guard poll(&entries, nfds_t(entries.count), 50) > 0, !self.frozen.load(ordering: .relaxed) else { continue }
            var broken: Set<Int> = []
            for (index, (client, server)) in pairs.enumerated() {
                for (from, to, entry) in [
                    (client, server, entries[1 + 2 * index]), (server, client, entries[2 + 2 * index]),
                ]
                where entry.revents != 0 && !broken.contains(index) {
                    let count = read(from, &buffer, buffer.count)
                    if count > 0 && from == client {
                        self.sent.withLock { $0.append(contentsOf: buffer[..<count]) }
                    }
                    if count <= 0 || !Self.writeAll(to, buffer, count) { broken.insert(index) }
                }
            }
            for index in broken.sorted(by: >) {
                close(pairs[index].0)
                close(pairs[index].1)
                pairs.remove(at: index)
            }
            if entries[0].revents != 0 {
                let client = accept(self.listener, nil, nil)
                guard client >= 0 else { continue }
                self.accepted.add(1, ordering: .relaxed)
                if let server = self.connectToTarget() {
                    pairs.append((client, server))
                } else {
                    close(client)
                }
            }
        }
    }

    private func connectToTarget() -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(self.target.host)
        address.sin_port = UInt16(self.target.port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    private static func writeAll(_ descriptor: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, count - written) }
            if result <= 0 { return false }
            written += result
        }
        return true
    }
}

/// The proxy's thread could not be started.
