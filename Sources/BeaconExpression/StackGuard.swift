// SPDX-License-Identifier: Apache-2.0

import CBeaconSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// Watches the remaining stack of the current thread, so that deeply nested input ends in an error instead
/// of a stack overflow, whatever the thread's stack size and the build's frame sizes.
struct StackGuard {
    /// The stack a parse may use below its starting point when the thread's stack bounds are unknown.
    static let fallbackBudget: UInt = 256 * 1024

    /// The lowest stack address recursion may reach.
    private let floor: UInt

    /// Reads the current thread's stack bounds and keeps a sixteenth of the stack (at least 64 KiB) in reserve;
    /// without known bounds, allows ``fallbackBudget`` below the current frame.
    init() {
        let here = StackGuard.currentAddress()
        if let (low, size) = StackGuard.threadStack(), low < here, size > 0 {
            floor = low + max(64 * 1024, size / 16)
        } else {
            floor = here > StackGuard.fallbackBudget ? here - StackGuard.fallbackBudget : 0
        }
    }

    /// Whether the current frame still has the reserve below it.
    func hasRoom() -> Bool {
        StackGuard.currentAddress() > floor
    }

    #if canImport(Glibc) || canImport(Musl)
    /// Thread-specific storage for each thread's stack bounds; the destructor frees them when the thread ends.
    private static let boundsKey: pthread_key_t = {
        var key = pthread_key_t()
        _ = pthread_key_create(&key) { storage in free(storage) }
        return key
    }()
    #endif

    /// The address of the current frame on the machine stack. Not the address of a Swift local: under
    /// AddressSanitizer a local whose address is taken lives on a fake stack on the heap, where the bounds of the
    /// thread's stack say nothing.
    private static func currentAddress() -> UInt {
        UInt(cbeacon_stack_address())
    }

    /// The lowest address and the size of the current thread's stack, when the platform tells.
    private static func threadStack() -> (UInt, UInt)? {
        #if canImport(Glibc) || canImport(Musl)
        // Reading the bounds can be slow (for the main thread glibc parses /proc/self/maps), so each thread
        // keeps them in thread-specific storage after the first parse.
        if let cached = pthread_getspecific(boundsKey) {
            let bounds = cached.assumingMemoryBound(to: UInt.self)
            return (bounds[0], bounds[1])
        }
        // pthread_getattr_np is a GNU extension the Glibc module does not declare; look it up instead.
        typealias GetAttributes = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
        guard let symbol = dlsym(nil, "pthread_getattr_np") else { return nil }
        let getAttributes = unsafeBitCast(symbol, to: GetAttributes.self)
        var attributes = pthread_attr_t()
        guard getAttributes(pthread_self(), &attributes) == 0 else { return nil }
        defer { pthread_attr_destroy(&attributes) }
        var address: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attributes, &address, &size) == 0, let address else { return nil }
        let bounds = (UInt(bitPattern: address), UInt(size))
        if let storage = malloc(2 * MemoryLayout<UInt>.stride) {
            let values = storage.bindMemory(to: UInt.self, capacity: 2)
            values[0] = bounds.0
            values[1] = bounds.1
            if pthread_setspecific(boundsKey, storage) != 0 {
                free(storage)
            }
        }
        return bounds
        #elseif canImport(Darwin)
        let thread = pthread_self()
        let high = UInt(bitPattern: pthread_get_stackaddr_np(thread))
        let size = UInt(pthread_get_stacksize_np(thread))
        return high > size ? (high - size, size) : nil
        #else
        return nil
        #endif
    }
}
