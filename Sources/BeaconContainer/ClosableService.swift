// SPDX-License-Identifier: Apache-2.0

/// A service that holds resources (connections, threads) which the container releases when the instance is
/// replaced or when the container stops.
///
/// When a service is rebuilt (its input changed, or it was invalidated), the old instance is *retired*. A
/// retired instance that conforms to this protocol is closed by ``Container/run()`` exactly once, when both hold:
///
/// - the container's ``ContainerBuilder/retiredInstanceGracePeriod`` has passed since it was retired, for the
///   callers that took it with a plain `get` (a reference the container cannot follow), and
/// - no ``Container/withService(_:as:_:)`` body that took it is still running (scoped users are counted).
///
/// When ``Container/run()`` ends (graceful shutdown or cancellation), every built or retired instance that
/// conforms is closed, once its scoped users are done. BeaconDiscovery makes Beacon's pools conform (memcached and
/// PostgreSQL): their `close()` releases their resources and is idempotent.
public protocol ClosableService: Sendable {
    /// Releases the instance's resources. Called at most once by the container.
    func close() async
}
