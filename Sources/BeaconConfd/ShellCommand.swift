// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Foundation

/// A resource's `check_cmd` or `reload_cmd`, run by `/bin/sh -c` as confd runs it.
struct ShellCommand: Sendable {
    /// How a command ended.
    struct Result: Sendable {
        /// The exit status, or 128 + the signal's number when a signal ended it.
        var status: Int32
        /// What the command wrote to standard output and standard error, at most ``outputLimit`` bytes of its end.
        var output: String

        var succeeded: Bool { self.status == 0 }
    }

    /// How much of a command's output is kept for logs and errors.
    static let outputLimit = 4096

    /// The command text, with `{{.src}}` and `{{.dest}}` already replaced.
    let text: String

    /// Fills in confd's placeholders: `{{.src}}` is the staged file, `{{.dest}}` the destination.
    init(template: String, source: String, destination: String) {
        self.text =
            template
            .replacingOccurrences(of: "{{.src}}", with: source)
            .replacingOccurrences(of: "{{.dest}}", with: destination)
    }

    /// Runs the command and waits for it to end without holding a thread; cancelling the calling task terminates it.
    ///
    /// Output goes to an unlinked temporary file rather than a pipe, so a command that leaves a daemon behind (which
    /// keeps a pipe open) cannot make the wait last for ever.
    ///
    /// - Returns: How the command ended.
    /// - Throws: ``ConfdError`` with code ``ConfdError/Code/invalidConfiguration`` when `/bin/sh` cannot be started.
    func run() async throws(ConfdError) -> Result {
        let outputFile: FileHandle
        do {
            outputFile = try Self.temporaryOutputFile()
        } catch {
            throw ConfdError(.invalidConfiguration, "cannot create a file for the output of `\(self.text)`: \(error)")
        }
        defer { try? outputFile.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", self.text]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outputFile
        process.standardError = outputFile
        let exited = ProcessExit()
        process.terminationHandler = { process in exited.finish(process.terminationStatus, process.terminationReason) }
        do {
            // On a thread of its own: `Process.run()` blocks while it forks, closes the descriptors the child must not
            // inherit (reading `/proc/self/fd` one entry at a time) and execs, for longer the more descriptors are
            // open, and it must not hold a thread of the cooperative pool meanwhile.
            try await BeaconThread.run(name: "beacon-spawn") { Swift.Result { try process.run() } }.get()
        } catch {
            throw ConfdError(.invalidConfiguration, "cannot run `\(self.text)`: \(error)")
        }
        let (status, reason) = await withTaskCancellationHandler {
            await exited.wait()
        } onCancel: {
            process.terminate()
        }
        let output = (try? outputFile.seekToEnd()).map { end -> String in
            let start = end > UInt64(Self.outputLimit) ? end - UInt64(Self.outputLimit) : 0
            try? outputFile.seek(toOffset: start)
            let data = (try? outputFile.readToEnd()) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        return Result(status: reason == .uncaughtSignal ? 128 + status : status, output: output ?? "")
    }

    private static func temporaryOutputFile() throws -> FileHandle {
        var template = Array((NSTemporaryDirectory() + "/beacon-confd-output.XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
}

/// The end of a child process, reported by Foundation's termination handler and awaited by one task.
private final class ProcessExit: Sendable {
    private struct State {
        var ended: (Int32, Process.TerminationReason)?
        var waiter: CheckedContinuation<(Int32, Process.TerminationReason), Never>?
    }

    private let state = Lock(State())

    func finish(_ status: Int32, _ reason: Process.TerminationReason) {
        let waiter = self.state.withLock { state in
            state.ended = (status, reason)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: (status, reason))
    }

    func wait() async -> (Int32, Process.TerminationReason) {
        await withCheckedContinuation { continuation in
            let ended = self.state.withLock { state -> (Int32, Process.TerminationReason)? in
                if let ended = state.ended { return ended }
                state.waiter = continuation
                return nil
            }
            if let ended { continuation.resume(returning: ended) }
        }
    }
}
