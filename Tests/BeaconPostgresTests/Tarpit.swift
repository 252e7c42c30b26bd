// SPDX-License-Identifier: Apache-2.0

import LoopbackServer

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
        let (descriptor, port) = try LoopbackSocket.make(listening: listening)
        self.port = port
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
}
