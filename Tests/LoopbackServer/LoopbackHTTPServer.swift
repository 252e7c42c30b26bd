// SPDX-License-Identifier: Apache-2.0

import BeaconLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A tiny HTTP server on a loopback port, for tests of HTTP and TCP health checks.
///
/// One thread of its own accepts connections one at a time, reads each request's head and answers with the status
/// of the moment (``setStatus(_:)``), an empty body and `Connection: close`. ``stop()`` ends the thread within 50
/// milliseconds and closes the socket; after that the port refuses connections. The thread keeps the server alive
/// until then: always call ``stop()``.
public final class LoopbackHTTPServer: Sendable {
    /// The port the server listens on, on 127.0.0.1.
    public let port: Int

    private let descriptor: Int32
    private let status: Atomic<Int>
    private let answered = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let thread: Lock<pthread_t?>

    /// Starts a server that answers `status`.
    ///
    /// - Parameter status: The status to answer with, such as 200 or 503.
    /// - Throws: ``LoopbackSocketFailure`` when the socket cannot be set up, ``ServeThreadFailure`` when the thread
    ///   cannot be started.
    public init(status: Int = 200) throws {
        let (descriptor, port) = try LoopbackSocket.make(listening: true)
        self.descriptor = descriptor
        self.port = port
        self.status = Atomic(status)
        self.thread = Lock(nil)
        switch ServeThread.start({ self.serve() }) {
        case .success(let thread):
            self.thread.withLock { $0 = thread }
        case .failure(let failure):
            close(descriptor)
            throw failure
        }
    }

    /// The URL of a path on the server, such as `http://127.0.0.1:41234/health`.
    ///
    /// - Parameter path: The path, starting with `/`.
    /// - Returns: The URL.
    public func url(_ path: String = "/health") -> String {
        "http://127.0.0.1:\(self.port)\(path)"
    }

    /// Changes the status of the following answers.
    ///
    /// - Parameter status: The new status.
    public func setStatus(_ status: Int) {
        self.status.store(status, ordering: .relaxed)
    }

    /// How many requests were answered.
    public var answeredCount: Int { self.answered.load(ordering: .relaxed) }

    /// Stops the thread and closes the socket; afterwards connections are refused. Calling it again does nothing.
    public func stop() {
        self.stopping.store(true, ordering: .relaxed)
        let thread = self.thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        if let thread {
            pthread_join(thread, nil)
            close(self.descriptor)
        }
    }

    private func serve() {
        while !self.stopping.load(ordering: .relaxed) {
            var entry = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) == 1 else { continue }
            let client = accept(self.descriptor, nil, nil)
            guard client >= 0 else { continue }
            self.answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) {
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 2000) == 1 else { return }
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            request += buffer[..<count]
        }
        let response =
            "HTTP/1.1 \(self.status.load(ordering: .relaxed)) Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = response.utf8CString.withUnsafeBufferPointer { bytes in
            write(client, bytes.baseAddress, bytes.count - 1)
        }
        self.answered.add(1, ordering: .relaxed)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        self.count >= suffix.count && Array(self[(self.count - suffix.count)...]) == suffix
    }
}

/// A loopback port that refuses connections for as long as this object lives: bound, but not listening.
public final class RefusingPort: Sendable {
    /// The port, on 127.0.0.1.
    public let port: Int
    private let descriptor: Int32

    /// Reserves a port.
    ///
    /// - Throws: ``LoopbackSocketFailure`` when the socket cannot be set up.
    public init() throws {
        (self.descriptor, self.port) = try LoopbackSocket.make(listening: false)
    }

    deinit {
        close(self.descriptor)
    }
}

/// A socket call that failed while a test server was set up.
public struct LoopbackSocketFailure: Error, CustomStringConvertible {
    /// The call that failed.
    public var step: String

    /// `socket setup failed at bind`.
    public var description: String { "socket setup failed at \(self.step)" }
}

/// Loopback sockets for test servers.
public enum LoopbackSocket {
    /// A TCP socket bound to 127.0.0.1 on a port the system picks, listening or not.
    ///
    /// - Parameter listening: `false` for a bound socket that does not listen, so that connections are refused.
    /// - Returns: The socket and its port.
    /// - Throws: ``LoopbackSocketFailure`` naming the call that failed.
    public static func make(listening: Bool) throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackSocketFailure(step: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, !listening || listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw LoopbackSocketFailure(step: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
