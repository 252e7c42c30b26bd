// SPDX-License-Identifier: Apache-2.0

import Beacon
import Logging
import Testing

@testable import BeaconMemcached

/// The per-server breaker's state machine, driven with explicit instants: nothing here waits.
@Suite("MemcachedBreaker")
struct MemcachedBreakerTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        self.start + .milliseconds(milliseconds)
    }

    @Test("timeouts below the limit pass; an answer resets the count")
    func belowLimit() {
        var breaker = MemcachedBreaker(failureLimit: 3, retryTimeout: .seconds(2))
        #expect(breaker.isQuiet)
        #expect(breaker.recordTimeout(at: self.at(0)) == false)
        #expect(breaker.recordTimeout(at: self.at(1)) == false)
        #expect(breaker.state == .closed(timeouts: 2))
        #expect(!breaker.isQuiet)
        #expect(breaker.admit(at: self.at(2)) == .pass)
        breaker.recordAnswer()
        #expect(breaker.isQuiet)
        #expect(breaker.recordTimeout(at: self.at(3)) == false)
        #expect(breaker.state == .closed(timeouts: 1))
    }

    @Test("the limit opens it: operations are rejected until retryTimeout has passed")
    func opens() {
        var breaker = MemcachedBreaker(failureLimit: 2, retryTimeout: .seconds(2))
        breaker.recordTimeout(at: self.at(0))
        #expect(breaker.recordTimeout(at: self.at(100)) == true)
        #expect(breaker.state == .open(timeouts: 2, until: self.at(2100)))
        #expect(breaker.admit(at: self.at(101)) == .reject(timeouts: 2, until: self.at(2100)))
        #expect(breaker.admit(at: self.at(2099)) == .reject(timeouts: 2, until: self.at(2100)))
        // A late answer to an operation let through before it opened does not close it.
        breaker.recordAnswer()
        #expect(breaker.admit(at: self.at(2099)) == .reject(timeouts: 2, until: self.at(2100)))
        // Nor does a late timeout move its deadline; it is counted.
        #expect(breaker.recordTimeout(at: self.at(2000)) == false)
        #expect(breaker.state == .open(timeouts: 3, until: self.at(2100)))
    }

    @Test("after retryTimeout one probe passes; the others are rejected while it is out")
    func probe() {
        var breaker = MemcachedBreaker(failureLimit: 1, retryTimeout: .seconds(2))
        breaker.recordTimeout(at: self.at(0))
        #expect(breaker.admit(at: self.at(2000)) == .probe)
        #expect(breaker.state == .probing(timeouts: 1, since: self.at(2000)))
        #expect(breaker.admit(at: self.at(2001)) == .reject(timeouts: 1, until: self.at(4000)))
        #expect(breaker.admit(at: self.at(3999)) == .reject(timeouts: 1, until: self.at(4000)))
    }

    @Test("a probe that is answered closes it")
    func probeAnswered() {
        var breaker = MemcachedBreaker(failureLimit: 2, retryTimeout: .seconds(1))
        breaker.recordTimeout(at: self.at(0))
        breaker.recordTimeout(at: self.at(0))
        #expect(breaker.admit(at: self.at(1000)) == .probe)
        breaker.recordAnswer()
        #expect(breaker.isQuiet)
        #expect(breaker.admit(at: self.at(1001)) == .pass)
        // Closed again, it takes the full limit to open.
        #expect(breaker.recordTimeout(at: self.at(1002)) == false)
        #expect(breaker.recordTimeout(at: self.at(1003)) == true)
    }

    @Test("a probe that times out opens it again for retryTimeout")
    func probeTimesOut() {
        var breaker = MemcachedBreaker(failureLimit: 2, retryTimeout: .seconds(1))
        breaker.recordTimeout(at: self.at(0))
        breaker.recordTimeout(at: self.at(0))
        #expect(breaker.admit(at: self.at(1500)) == .probe)
        #expect(breaker.recordTimeout(at: self.at(2000)) == true)
        #expect(breaker.state == .open(timeouts: 3, until: self.at(3000)))
        #expect(breaker.admit(at: self.at(2999)) == .reject(timeouts: 3, until: self.at(3000)))
        #expect(breaker.admit(at: self.at(3000)) == .probe)
    }

    @Test("a probe that never reports is replaced after retryTimeout")
    func lostProbe() {
        var breaker = MemcachedBreaker(failureLimit: 1, retryTimeout: .seconds(1))
        breaker.recordTimeout(at: self.at(0))
        #expect(breaker.admit(at: self.at(1000)) == .probe)
        #expect(breaker.admit(at: self.at(1999)) == .reject(timeouts: 1, until: self.at(2000)))
        #expect(breaker.admit(at: self.at(2000)) == .probe)
        #expect(breaker.state == .probing(timeouts: 1, since: self.at(2000)))
    }

    @Test("a probe failing otherwise hands the server back to libmemcached; other failures change nothing")
    func otherFailures() {
        var breaker = MemcachedBreaker(failureLimit: 2, retryTimeout: .seconds(1))
        breaker.recordTimeout(at: self.at(0))
        breaker.recordOtherFailure()
        #expect(breaker.state == .closed(timeouts: 1))
        breaker.recordTimeout(at: self.at(0))
        breaker.recordOtherFailure()
        #expect(breaker.state == .open(timeouts: 2, until: self.at(1000)))
        #expect(breaker.admit(at: self.at(1000)) == .probe)
        breaker.recordOtherFailure()
        #expect(breaker.isQuiet)
    }

    @Test("a limit below 1 counts as 1, a negative retryTimeout as zero")
    func clamped() {
        var breaker = MemcachedBreaker(failureLimit: 0, retryTimeout: .seconds(-1))
        #expect(breaker.recordTimeout(at: self.at(0)) == true)
        #expect(breaker.admit(at: self.at(0)) == .probe)
    }

    @Test("the pool's shared breakers: the quiet flag follows every server's breaker")
    func sharedQuietFlag() throws {
        let servers = [Endpoint(host: "127.0.0.1", port: 1), Endpoint(host: "127.0.0.1", port: 2)]
        let breakers = MemcachedBreakers(
            servers: MemcachedServerList(servers),
            configuration: MemcachedPool.Configuration(failureLimit: 1, retryTimeout: .seconds(60)),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(breakers.isQuiet)
        breakers.record(.timedOut, at: 1)
        #expect(!breakers.isQuiet)
        guard case .reject(let timeouts, _) = breakers.admit(1) else {
            Issue.record("server 1 is not skipped")
            return
        }
        #expect(timeouts == 1)
        #expect(breakers.admit(0) == .pass)
        breakers.record(.answered, at: 0)
        #expect(!breakers.isQuiet)
        breakers.record(.timedOut, at: 0)
        breakers.record(.answered, at: 1)  // ignored: open
        #expect(!breakers.isQuiet)
        #expect(breakers.breaker(at: 0).state != .closed(timeouts: 0))
    }

    @Test("the shared breakers under concurrent timeouts and answers stay consistent")
    func concurrent() async {
        let servers = (1...4).map { Endpoint(host: "127.0.0.1", port: $0) }
        let breakers = MemcachedBreakers(
            servers: MemcachedServerList(servers),
            configuration: MemcachedPool.Configuration(failureLimit: 3, retryTimeout: .zero),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for step in 0..<2000 {
                        let position = (worker + step) % 4
                        switch breakers.admit(position) {
                        case .pass, .probe:
                            breakers.record(step % 3 == 0 ? .timedOut : .answered, at: position)
                        case .reject:
                            break
                        }
                    }
                }
            }
        }
        for position in 0..<4 {
            let state = breakers.breaker(at: position).state
            if case .open = state {
                _ = breakers.admit(position)
            }
            breakers.record(.answered, at: position)
        }
        #expect(breakers.isQuiet)
    }
}
