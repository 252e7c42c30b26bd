// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// Reads a whole (small) file with POSIX calls, so errors say plainly what the system said.
/// Shared with the cache module (persisted entries) through the `package` access level.
package enum FileReading {
    package static func contents(of path: String) throws(BeaconError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path, errno) }
        defer { _ = close(descriptor) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return result }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure(path, errno)
            }
            result.append(contentsOf: buffer[0..<count])
        }
    }

    private static func failure(_ path: String, _ code: Int32) -> BeaconError {
        BeaconError(.unreadableFile, "the file cannot be read: \(String(cString: strerror(code)))", file: path)
    }
}
