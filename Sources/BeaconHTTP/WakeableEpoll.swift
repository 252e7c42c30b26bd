// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// An epoll set with an eventfd in it: what an I/O thread sleeps on, and how another thread ends that sleep. A loop
/// (libcurl's sockets) and an I/O thread (the loops' sets) each have one.
struct WakeableEpoll {
    /// The epoll set.
    let epoll: Int32
    /// The eventfd in the set: readable once ``wake()`` wrote to it, until ``drain()``.
    let wakeUp: Int32

    /// Creates the set and the eventfd.
    init() {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed with errno \(errno)")
        let wakeUp = cbeacon_eventfd()
        precondition(wakeUp >= 0, "eventfd failed with errno \(errno)")
        precondition(cbeacon_epoll_control(epoll, EPOLL_CTL_ADD, wakeUp, EPOLLIN.rawValue) == 0)
        self.epoll = epoll
        self.wakeUp = wakeUp
    }

    /// Ends a wait on the set (now, or at once if nobody waits).
    func wake() {
        var one: UInt64 = 1
        _ = write(self.wakeUp, &one, 8)
    }

    /// Makes the eventfd unreadable again, if `ready` (the descriptors a wait reported) holds it. Done before the
    /// messages are read, so that a message posted from then on leaves it readable.
    func drain(ifIn ready: ArraySlice<Int32>) {
        guard ready.contains(self.wakeUp) else { return }
        var count: UInt64 = 0
        _ = read(self.wakeUp, &count, 8)
    }

    /// Closes both descriptors.
    func closeDescriptors() {
        _ = close(self.wakeUp)
        _ = close(self.epoll)
    }
}
