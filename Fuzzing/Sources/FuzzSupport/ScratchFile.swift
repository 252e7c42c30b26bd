// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file in the temporary directory that each input is written to, for parsers that read a path.
///
/// One file per process, created on first use and removed at exit; every input overwrites it.
public final class ScratchFile: Sendable {
    /// The file's path.
    public let path: String

    /// Creates an empty file whose name ends with `suffix` (such as `.json`).
    ///
    /// - Parameter suffix: The name's extension, which file readers may look at.
    public init(suffix: String) {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/beacon-fuzz-XXXXXX\(suffix)".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            mkstemps(buffer.baseAddress!, CInt(suffix.utf8.count))
        }
        guard descriptor >= 0 else { fatalError("cannot create a scratch file in \(directory)") }
        close(descriptor)
        self.path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let remove: @convention(c) () -> Void = { ScratchFile.removeAll() }
        if ScratchFile.paths.isEmpty { atexit(remove) }
        ScratchFile.paths.append(self.path)
    }

    /// Replaces the file's content.
    ///
    /// - Parameter bytes: The new content.
    public func write(_ bytes: [UInt8]) {
        guard let file = fopen(self.path, "wb") else { fatalError("cannot open the scratch file \(self.path)") }
        defer { fclose(file) }
        let written = bytes.withUnsafeBytes { buffer in fwrite(buffer.baseAddress, 1, buffer.count, file) }
        guard written == bytes.count else { fatalError("cannot write the scratch file \(self.path)") }
    }

    /// The files to remove at exit. Fuzz targets run inputs on one thread.
    nonisolated(unsafe) private static var paths: [String] = []

    private static func removeAll() {
        for path in paths { unlink(path) }
    }
}
