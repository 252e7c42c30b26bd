// SPDX-License-Identifier: Apache-2.0

import Beacon
import LoopbackServer
import Testing

@testable import BeaconHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// ``HTTPIOThread``: HTTP clients sharing one I/O thread, against loopback sockets (a tiny HTTP server, and a port
/// that accepts connections but never answers).
@Suite("HTTPIOThread: a shared I/O thread", .timeLimit(.minutes(1)))
struct HTTPIOThreadTests {
    /// A client on `ioThread`.
    static func client(on ioThread: HTTPIOThread, requestTimeout: Duration = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.ioThread = ioThread
        configuration.requestTimeout = requestTimeout
        return HTTPClient(configuration: configuration)
    }

    @Test("the thread starts with the first client, is shared by the others and stops at shutdown")
    func oneThreadForSeveralClients() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let ioThread = HTTPIOThread()
        #expect(ioThread.runningThreadCount == 0)
        let clients = (0..<3).map { _ in Self.client(on: ioThread) }
        #expect(ioThread.runningThreadCount == 1)
        for client in clients {
            #expect(try await client.execute(HTTPRequest(url: server.url())).status == 200)
        }
        // One executor for all: code that prefers one client's executor is on every client's I/O thread.
        try await withTaskExecutorPreference(clients[0].taskExecutor) { () async throws in
            #expect(clients.allSatisfy { $0.isOnIOThread })
            #expect(try await clients[2].execute(HTTPRequest(url: server.url())).status == 200)
            #expect(clients[1].isOnIOThread)
        }
        #expect(ioThread.runningThreadCount == 1)
        for client in clients { client.close() }
        #expect(ioThread.runningThreadCount == 1)
        ioThread.shutdown()
        #expect(ioThread.runningThreadCount == 0 && ioThread.isShutDown)
        ioThread.shutdown()
    }

    @Test("closing or releasing a client leaves the thread to the other clients")
    func closingAClientKeepsTheThread() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let ioThread = HTTPIOThread()
        defer { ioThread.shutdown() }
        let staying = Self.client(on: ioThread)
        defer { staying.close() }
        let closed = Self.client(on: ioThread)
        #expect(try await closed.execute(HTTPRequest(url: server.url())).status == 200)
        closed.close()
        let error = await #expect(throws: HTTPError.self) { try await closed.execute(HTTPRequest(url: server.url())) }
        #expect(error?.code == .closed && error?.isIOThreadShutDown == false)
        do {
            // Released without close(): deinit takes it off the thread.
            let released = Self.client(on: ioThread)
            #expect(try await released.execute(HTTPRequest(url: server.url())).status == 200)
        }
        #expect(ioThread.runningThreadCount == 1)
        #expect(try await staying.execute(HTTPRequest(url: server.url())).status == 200)
        // Timers still run: a request to a port that never answers times out.
        let silent = try LoopbackSocket.make(listening: true)
        defer { close(silent.descriptor) }
        let timedOut = await #expect(throws: HTTPError.self) {
            try await staying.execute(
                HTTPRequest(url: "http://127.0.0.1:\(silent.port)/", timeout: .milliseconds(200))
            )
        }
        #expect(timedOut?.code == .timedOut)
    }

    @Test("shutting the thread down fails the requests in progress and later ones, and never hangs")
    func shutdownFailsRequests() async throws {
        let silent = try LoopbackSocket.make(listening: true)
        defer { close(silent.descriptor) }
        let ioThread = HTTPIOThread()
        let clients = [Self.client(on: ioThread), Self.client(on: ioThread)]
        defer { for client in clients { client.close() } }
        let request = HTTPRequest(url: "http://127.0.0.1:\(silent.port)/")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    let error = await #expect(throws: HTTPError.self) { try await client.execute(request) }
                    #expect(error?.code == .closed && error?.isIOThreadShutDown == true)
                }
                group.addTask {
                    let error = await #expect(throws: HTTPError.self) { try await client.stream(request) }
                    #expect(error?.code == .closed && error?.isIOThreadShutDown == true)
                }
            }
            while clients.map(\.runningTransferCount).reduce(0, +) < 4 {
                try await Task.sleep(for: .milliseconds(5))
            }
            ioThread.shutdown()
            try await group.waitForAll()
        }
        #expect(ioThread.runningThreadCount == 0)
        let later = await #expect(throws: HTTPError.self) { try await clients[0].execute(request) }
        #expect(later?.isIOThreadShutDown == true)
    }

    @Test("closing a client and shutting the thread down from a task on the thread do not deadlock")
    func closeAndShutdownFromTheThread() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let ioThread = HTTPIOThread()
        let closed = Self.client(on: ioThread)
        let staying = Self.client(on: ioThread)
        defer { staying.close() }
        try await withTaskExecutorPreference(staying.taskExecutor) { () async throws in
            #expect(staying.isOnIOThread)
            closed.close()
            #expect(try await staying.execute(HTTPRequest(url: server.url())).status == 200)
            #expect(staying.isOnIOThread)
            ioThread.shutdown()
        }
        let error = await #expect(throws: HTTPError.self) { try await staying.execute(HTTPRequest(url: server.url())) }
        #expect(error?.isIOThreadShutDown == true)
    }

    @Test("a client made on a thread that was shut down fails its requests at once")
    func clientOnAShutDownThread() async throws {
        let ioThread = HTTPIOThread()
        ioThread.shutdown()
        let client = Self.client(on: ioThread)
        defer { client.close() }
        #expect(ioThread.runningThreadCount == 0)
        let error = await #expect(throws: HTTPError.self) {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:1/"))
        }
        #expect(error?.code == .closed && error?.isIOThreadShutDown == true)
        // Code that prefers the client's executor still runs (on the global concurrent executor).
        let ran = await withTaskExecutorPreference(client.taskExecutor) { !client.isOnIOThread }
        #expect(ran)
    }

    @Test("releasing the last reference stops the thread")
    func releaseStopsTheThread() async throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        weak var weakThread: HTTPIOThread?
        do {
            let ioThread = HTTPIOThread()
            weakThread = ioThread
            let client = Self.client(on: ioThread)
            // Not inside #expect, which may keep the values it saw (the client, so the object) for a while.
            let status = try await client.execute(HTTPRequest(url: server.url())).status
            client.close()
            #expect(status == 200)
        }
        // The thread held neither the object nor the client: both are gone, and deinit joined the thread.
        #expect(weakThread == nil)
    }
}
