// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A resource's destination: what is there now, and how a new version is staged beside it and moved into place
/// atomically, as confd does.
struct DestinationFile {
    /// The owner, group and permission bits a file has or should have.
    struct Attributes: Equatable {
        var owner: uid_t
        var group: gid_t
        var mode: UInt32
    }

    /// The destination's path.
    let path: String

    /// The directory the destination is in; the staged file is created there so that `rename(2)` is atomic.
    var directory: String {
        let parent = (self.path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// The destination's content and attributes, or `nil` when it does not exist.
    func current() throws(ConfdError) -> (content: [UInt8], attributes: Attributes)? {
        var info = stat()
        guard stat(self.path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw ConfdError(
                .unwritableDestination,
                "cannot read the destination: \(Self.lastError())",
                file: self.path
            )
        }
        guard let data = FileManager.default.contents(atPath: self.path) else {
            throw ConfdError(.unwritableDestination, "cannot read the destination", file: self.path)
        }
        return ([UInt8](data), Attributes(owner: info.st_uid, group: info.st_gid, mode: UInt32(info.st_mode) & 0o7777))
    }

    /// Writes content to a new hidden file beside the destination (`.name.XXXXXX`) with the given attributes.
    ///
    /// - Returns: The staged file's path.
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/unwritableDestination`` naming the directory.
    func stage(_ content: [UInt8], attributes: Attributes) throws(ConfdError) -> String {
        let name = (self.path as NSString).lastPathComponent
        var template = Array("\(self.directory)/.\(name).XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ConfdError(
                .unwritableDestination,
                "cannot create a file in the destination's directory: \(Self.lastError())",
                file: self.directory
            )
        }
        let staged = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { close(descriptor) }
        do {
            try Self.writeAll(content, to: descriptor)
            guard fchmod(descriptor, mode_t(attributes.mode)) == 0 else { throw Self.lastError() }
            if attributes.owner != geteuid() || attributes.group != getegid() {
                guard fchown(descriptor, attributes.owner, attributes.group) == 0 else { throw Self.lastError() }
            }
            guard fsync(descriptor) == 0 else { throw Self.lastError() }
        } catch {
            unlink(staged)
            throw ConfdError(.unwritableDestination, "cannot write the staged file: \(error)", file: staged)
        }
        return staged
    }

    /// Moves a staged file over the destination in one step.
    func replace(with staged: String) throws(ConfdError) {
        guard rename(staged, self.path) == 0 else {
            let error = Self.lastError()
            unlink(staged)
            throw ConfdError(.unwritableDestination, "cannot replace the destination: \(error)", file: self.path)
        }
    }

    /// Deletes a staged file that will not be used.
    static func discard(_ staged: String) {
        unlink(staged)
    }

    private static func writeAll(_ content: [UInt8], to descriptor: Int32) throws {
        var offset = 0
        while offset < content.count {
            let written = content[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw self.lastError()
            }
            offset += written
        }
    }

    private static func lastError() -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
}

/// Resolves the owner and group a resource names (`nginx`, `33`) to numbers.
enum AccountLookup {
    static func user(_ name: String) throws(ConfdError) -> uid_t {
        if let number = uid_t(name) { return number }
        guard let entry = getpwnam(name) else {
            throw ConfdError(.invalidConfiguration, "the owner \"\(name)\" is not a user on this system")
        }
        return entry.pointee.pw_uid
    }

    static func group(_ name: String) throws(ConfdError) -> gid_t {
        if let number = gid_t(name) { return number }
        guard let entry = getgrnam(name) else {
            throw ConfdError(.invalidConfiguration, "the group \"\(name)\" is not a group on this system")
        }
        return entry.pointee.gr_gid
    }
}
