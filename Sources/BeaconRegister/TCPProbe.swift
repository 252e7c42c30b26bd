// SPDX-License-Identifier: Apache-2.0

import Beacon
import BeaconLocks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform: Beacon builds against Glibc or Musl (Linux), or Darwin")
#endif

/// A TCP connect, as ``HealthCheck/tcp(_:)`` does it, on a short-lived thread of its own.
///
/// Name resolution (`getaddrinfo`) blocks, and so would a connect, so neither runs on the cooperative pool: each
/// probe starts one detached thread that resolves the host, tries each address with a non-blocking `connect` and
/// `poll`, closes the socket, resumes the waiting task and exits. The thread lives no longer than the probe: the
/// timeout bounds it, and cancelling the waiting task ends it within 50 milliseconds (except while the resolver
/// runs, which the system resolver's own timeouts bound).
enum TCPProbe {
    /// Connects to an endpoint and closes the connection at once.
    ///
    /// - Parameters:
    ///   - endpoint: The host and port.
    ///   - timeout: How long resolving and connecting may take together.
    /// - Throws: ``HealthCheckError`` with code ``HealthCheckError/Code/connectFailed`` or
    ///   ``HealthCheckError/Code/timedOut``; `CancellationError` when the calling task is cancelled.
    static func connect(to endpoint: Endpoint, timeout: Duration) async throws {
        let job = TCPProbeJob(host: endpoint.host, port: endpoint.port, timeout: timeout)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                job.start(continuation)
            }
        } onCancel: {
            job.cancelled.store(true, ordering: .relaxed)
        }
    }
}

/// One probe: what its thread needs, and the task to resume.
private final class TCPProbeJob: Sendable {
    private enum Outcome {
        case connected
        case failed(String)
        case timedOut
        case cancelled
    }

    let host: String
    let port: Int
    let timeout: Duration
    /// Set when the waiting task is cancelled; the thread looks at it between short polls.
    let cancelled = Atomic<Bool>(false)
    /// The waiting task, resumed once by the thread (or by ``start(_:)`` when no thread could be started).
    private let continuation = Lock<CheckedContinuation<Void, any Error>?>(nil)

    init(host: String, port: Int, timeout: Duration) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// Starts the thread, which resumes `continuation` when done.
    func start(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation.withLock { $0 = continuation }
        guard BeaconThread.detach(name: "beacon-tcpcheck", { self.run() }) else {
            self.finish(.failure(HealthCheckError(.connectFailed, "no thread could be started for the TCP check")))
            return
        }
    }

    /// The thread's body.
    private func run() {
        let endpoint = Endpoint(host: self.host, port: self.port)
        let result: Result<Void, any Error>
        switch self.probe() {
        case .connected:
            result = .success(())
        case .failed(let reason):
            result = .failure(HealthCheckError(.connectFailed, "connecting to \(endpoint) failed: \(reason)"))
        case .timedOut:
            result = .failure(HealthCheckError(.timedOut, "connecting to \(endpoint) took longer than \(self.timeout)"))
        case .cancelled:
            result = .failure(CancellationError())
        }
        self.finish(result)
    }

    private func finish(_ result: Result<Void, any Error>) {
        let continuation = self.continuation.withLock { stored in
            defer { stored = nil }
            return stored
        }
        continuation?.resume(with: result)
    }

    /// Resolves the host and tries its addresses in turn until one accepts.
    private func probe() -> Outcome {
        let deadline = ContinuousClock.now + self.timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(self.host, String(self.port), &hints, &list)
        guard resolved == 0, let list else {
            return .failed("the host could not be resolved (\(String(cString: gai_strerror(resolved))))")
        }
        defer { freeaddrinfo(list) }
        var outcome = Outcome.failed("the host has no address")
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            outcome = self.attempt(current.pointee, deadline: deadline)
            switch outcome {
            case .failed: entry = current.pointee.ai_next
            case .connected, .timedOut, .cancelled: return outcome
            }
        }
        return outcome
    }

    /// One non-blocking connect, polled in slices of at most 50 milliseconds so that cancellation is seen soon.
    private func attempt(_ address: addrinfo, deadline: ContinuousClock.Instant) -> Outcome {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = socket(address.ai_family, address.ai_socktype | flags, address.ai_protocol)
        guard descriptor >= 0 else { return .failed(Self.systemError(errno)) }
        defer { close(descriptor) }
        if connect(descriptor, address.ai_addr, address.ai_addrlen) == 0 { return .connected }
        guard errno == EINPROGRESS else { return .failed(Self.systemError(errno)) }
        while true {
            if self.cancelled.load(ordering: .relaxed) { return .cancelled }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return .timedOut }
            let slice = min(remaining, .milliseconds(50))
            let milliseconds = max(1, Int32(slice.wholeMilliseconds))
            var pollEntry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pollEntry, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed(Self.systemError(errno))
            }
            guard ready > 0 else { continue }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                return .failed(Self.systemError(errno))
            }
            return error == 0 ? .connected : .failed(Self.systemError(error))
        }
    }

    private static func systemError(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
