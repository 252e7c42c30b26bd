// SPDX-License-Identifier: Apache-2.0

/// An etcd lease: keys attached to it are deleted when it expires or is revoked.
public struct EtcdLease: Hashable, Sendable, CustomStringConvertible {
    /// The lease's ID, as etcd assigned it.
    public var id: Int64
    /// The TTL it was granted with.
    public var ttl: Duration

    /// Describes an existing lease.
    ///
    /// - Parameters:
    ///   - id: The lease's ID.
    ///   - ttl: The TTL it was granted with.
    public init(id: Int64, ttl: Duration) {
        self.id = id
        self.ttl = ttl
    }

    /// `lease 2442818067633729585 (ttl 3.0 seconds)`.
    public var description: String { "lease \(self.id) (ttl \(self.ttl))" }
}

extension EtcdClient {
    /// Grants a lease.
    ///
    /// - Parameter ttl: How long the lease lives without keep-alives; etcd rounds it to whole seconds (at
    ///   least one).
    /// - Returns: The lease.
    /// - Throws: ``EtcdError``.
    public func grantLease(ttl: Duration) async throws -> EtcdLease {
        try await self.grantLease(ttl: ttl, ignoringCancellation: false)
    }

    /// Grants a lease; with `ignoringCancellation`, the request goes on if the calling task is cancelled.
    func grantLease(ttl: Duration, ignoringCancellation: Bool) async throws -> EtcdLease {
        let seconds = max(
            1,
            Int64((Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18).rounded(.up))
        )
        let response = try await self.transport.call(
            "lease/grant",
            path: "/v3/lease/grant",
            WireLeaseGrantRequest(TTL: WireInt64(seconds)),
            as: WireLeaseGrantResponse.self,
            ignoringCancellation: ignoringCancellation
        )
        guard let id = response.ID?.value else {
            throw EtcdError(
                .invalidResponse,
                response.error ?? "the answer holds no lease ID",
                operation: "lease/grant"
            )
        }
        return EtcdLease(id: id, ttl: .seconds(response.TTL?.value ?? seconds))
    }

    /// Renews a lease once.
    ///
    /// - Parameter lease: The lease.
    /// - Returns: The TTL the lease has again, or `nil` when the lease no longer exists (expired or revoked):
    ///   its keys are gone, so grant a new lease and write them again.
    /// - Throws: ``EtcdError``.
    public func keepAlive(_ lease: EtcdLease) async throws -> Duration? {
        let response = try await self.transport.call(
            "lease/keepalive",
            path: "/v3/lease/keepalive",
            WireLeaseIDRequest(ID: WireInt64(lease.id)),
            as: WireLeaseKeepAliveResponse.self
        )
        // etcd answers 200 for an unknown lease, with a result that names it but has no TTL (TTL 0 is omitted). An
        // answer without a result is the stream's error line (a timed-out request on a loaded server, a leader
        // change): that says nothing about the lease, which must not be taken for lost.
        guard let result = response.result else {
            throw EtcdError(
                .server,
                response.error?.message.map { "the keep-alive stream ended: \($0)" }
                    ?? "the keep-alive answer holds no result",
                operation: "lease/keepalive",
                grpcCode: response.error?.grpc_code
            )
        }
        guard let ttl = result.TTL?.value, ttl > 0 else { return nil }
        return .seconds(ttl)
    }

    /// Revokes a lease: its keys are deleted at once.
    ///
    /// A lease that had already ended (expired, or revoked before) is gone as asked: that is no error.
    ///
    /// - Parameter lease: The lease.
    /// - Throws: ``EtcdError`` when etcd cannot be reached or refuses the request.
    public func revoke(_ lease: EtcdLease) async throws {
        try await self.revoke(lease, ignoringCancellation: false)
    }

    /// Revokes a lease; with `ignoringCancellation`, the request goes on if the calling task is cancelled.
    func revoke(_ lease: EtcdLease, ignoringCancellation: Bool) async throws {
        do {
            _ = try await self.transport.call(
                "lease/revoke",
                path: "/v3/lease/revoke",
                WireLeaseIDRequest(ID: WireInt64(lease.id)),
                as: WireEmptyResponse.self,
                ignoringCancellation: ignoringCancellation
            )
        } catch let error as EtcdError where error.code == .leaseNotFound {
            // Expired or revoked already: the lease is gone, as asked.
        }
    }

    /// The IDs of every lease the cluster holds, whoever granted them (etcd's lease list); for tests and diagnostics.
    func leaseIDs() async throws -> [Int64] {
        let response = try await self.transport.call(
            "lease/leases",
            path: "/v3/lease/leases",
            WireEmptyRequest(),
            as: WireLeaseLeasesResponse.self
        )
        return (response.leases ?? []).compactMap { $0.ID?.value }
    }

    /// How long a lease has left.
    ///
    /// - Parameter lease: The lease.
    /// - Returns: The remaining TTL (whole seconds, rounded down), or `nil` when the lease no longer exists.
    /// - Throws: ``EtcdError``.
    public func timeToLive(_ lease: EtcdLease) async throws -> Duration? {
        let response = try await self.transport.call(
            "lease/timetolive",
            path: "/v3/lease/timetolive",
            WireLeaseIDRequest(ID: WireInt64(lease.id)),
            as: WireLeaseTimeToLiveResponse.self
        )
        let ttl = response.TTL?.value ?? 0
        return ttl < 0 ? nil : .seconds(ttl)
    }
}
