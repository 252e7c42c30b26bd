// SPDX-License-Identifier: Apache-2.0

import CBeaconCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("unsupported platform: BeaconHTTP waits on libcurl's sockets with epoll and eventfd, which only Linux has")
#endif

/// The epoll set an I/O thread sleeps on, with an eventfd in it that ends the sleep from another thread.
///
/// One set per thread, holding the sockets of every loop the thread drives: each socket is registered with a tag
/// that names its loop and itself (``tag(loop:socket:)``), so one `epoll_wait` tells the thread which loop has work,
/// with no set per loop to look into afterwards. The thread and its loops share the set; its descriptors close when
/// the last of them lets go of it, so a loop that outlives its thread never touches a closed or reused descriptor.
///
/// `Sendable`: the descriptors are immutable, and the kernel synchronizes what is done with them.
final class WakeableEpoll: Sendable {
    /// The epoll set.
    let epoll: Int32
    /// The eventfd in the set: readable once ``wake()`` wrote to it, until ``drain()``.
    private let wakeUp: Int32
    /// The numbers given to loops, from 1 (0 is the eventfd's).
    private let loopNumbers = Atomic<UInt32>(0)

    /// The tag of the eventfd: a wait that reports it was ended by ``wake()``.
    static let wakeUpTag: UInt64 = 0

    /// Creates the set and the eventfd.
    init() {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed with errno \(errno)")
        let wakeUp = cbeacon_eventfd()
        precondition(wakeUp >= 0, "eventfd failed with errno \(errno)")
        precondition(cbeacon_epoll_control(epoll, EPOLL_CTL_ADD, wakeUp, EPOLLIN.rawValue, Self.wakeUpTag) == 0)
        self.epoll = epoll
        self.wakeUp = wakeUp
    }

    deinit {
        _ = close(self.wakeUp)
        _ = close(self.epoll)
    }

    /// A number for a new loop, unique in this set.
    func numberLoop() -> UInt32 {
        self.loopNumbers.add(1, ordering: .relaxed).newValue
    }

    /// The tag a loop's socket is registered with.
    ///
    /// - Parameters:
    ///   - loop: The loop's number (``numberLoop()``).
    ///   - socket: The socket.
    /// - Returns: The loop's number in the upper 32 bits, the socket in the lower.
    static func tag(loop: UInt32, socket: Int32) -> UInt64 {
        UInt64(loop) << 32 | UInt64(UInt32(bitPattern: socket))
    }

    /// The loop and socket that a tag names.
    static func parts(of tag: UInt64) -> (loop: UInt32, socket: Int32) {
        (UInt32(truncatingIfNeeded: tag >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: tag)))
    }

    /// Ends a wait on the set (now, or at once if nobody waits).
    func wake() {
        var one: UInt64 = 1
        _ = write(self.wakeUp, &one, 8)
    }

    /// Makes the eventfd unreadable again. Done before the messages are read, so that a message posted from then
    /// on leaves it readable.
    func drain() {
        var count: UInt64 = 0
        _ = read(self.wakeUp, &count, 8)
    }
}
