// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A loopback TCP listener that never accepts: the kernel completes the handshake, and then nobody answers, like a
/// server that hangs. Also gives a port that refuses connections (a bound socket that does not listen).
final class Tarpit: Sendable {
    let port: Int
    private let descriptor: Int32

    init(listening: Bool = true) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(step: "socket") }
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
            throw SocketFailure(step: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
    }

    deinit {
        close(self.descriptor)
    }

    /// Accepts the oldest pending connection and reads it until the client closes it, for up to `limit` seconds.
    ///
    /// - Returns: Whether the client closed its end (end of stream) within the limit.
    func clientClosesPendingConnection(limit seconds: Int32 = 10) -> Bool {
        let client = accept(self.descriptor, nil, nil)
        guard client >= 0 else { return false }
        defer { close(client) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            var descriptor = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, seconds * 1000) == 1 else { return false }
            let count = read(client, &buffer, buffer.count)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    struct SocketFailure: Error {
        var step: String
    }
}
