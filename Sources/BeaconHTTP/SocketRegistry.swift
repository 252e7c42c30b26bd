// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// A loop's sockets in its I/O thread's epoll set, as libcurl's socket callback asks: each registered with the
/// loop's tag (``WakeableEpoll/tag(loop:socket:)``). Used only with the engine lock held.
///
/// A socket that libcurl stops waiting on (a kept-alive connection between requests) stays registered, set aside:
/// the connection's next request then changes its registration (one system call) instead of adding it again after
/// removing it (two). An event on a set-aside socket (the server closed the idle connection, or sent something
/// unasked) removes it: libcurl finds out when it next tries to reuse the connection. A socket that libcurl closes
/// leaves the epoll set by itself.
struct SocketRegistry {
    private let epoll: Int32
    private let loop: UInt32
    /// The registered sockets: `true` while libcurl waits on them, `false` once set aside.
    private var sockets: [Int32: Bool] = [:]
    /// Set when the loop has left its thread: nothing is registered any more.
    private var isClosed = false

    /// An empty registry.
    ///
    /// - Parameters:
    ///   - epoll: The I/O thread's epoll set.
    ///   - loop: The loop's number in that set.
    init(epoll: Int32, loop: UInt32) {
        self.epoll = epoll
        self.loop = loop
    }

    /// Registers a socket for `events`, or changes its registration. A socket registered here joins an
    /// `epoll_wait` already in progress on the I/O thread.
    ///
    /// - Parameters:
    ///   - socket: The socket.
    ///   - events: `EPOLLIN`, `EPOLLOUT` or both.
    mutating func watch(_ socket: Int32, events: UInt32) {
        guard !self.isClosed else { return }
        let tag = WakeableEpoll.tag(loop: self.loop, socket: socket)
        // A socket closed behind our back (set aside, then closed by libcurl) has left the epoll set by itself, and
        // its number may come back: fall back from one operation to the other when the set disagrees with what we
        // remember.
        if self.sockets.updateValue(true, forKey: socket) == nil {
            if cbeacon_epoll_control(self.epoll, EPOLL_CTL_ADD, socket, events, tag) != 0, errno == EEXIST {
                _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_MOD, socket, events, tag)
            }
        } else if cbeacon_epoll_control(self.epoll, EPOLL_CTL_MOD, socket, events, tag) != 0, errno == ENOENT {
            _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_ADD, socket, events, tag)
        }
    }

    /// Sets a socket aside: libcurl no longer waits on it.
    ///
    /// - Parameter socket: The socket.
    mutating func setAside(_ socket: Int32) {
        if self.sockets[socket] != nil {
            self.sockets[socket] = false
        }
    }

    /// Takes an event the thread's wait reported for a socket.
    ///
    /// - Parameter socket: The socket.
    /// - Returns: Whether libcurl waits on the socket; `false` for a set-aside socket, which has now left the set.
    mutating func takeEvent(on socket: Int32) -> Bool {
        guard self.sockets[socket] == false else { return true }
        self.sockets[socket] = nil
        _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_DEL, socket, 0, 0)
        return false
    }

    /// Takes every socket out of the epoll set and registers none from now on: the loop is leaving its thread, whose
    /// wait must not report the sockets (still open until libcurl closes them) any more.
    mutating func close() {
        for socket in self.sockets.keys {
            _ = cbeacon_epoll_control(self.epoll, EPOLL_CTL_DEL, socket, 0, 0)
        }
        self.sockets = [:]
        self.isClosed = true
    }
}
