// SPDX-License-Identifier: Apache-2.0

public import BeaconContainer
public import BeaconMemcached
public import BeaconPostgres

// Beacon's pools, built by a container factory (from `endpoints()`, say), are closed by the container when a
// rebuild replaces them: once their scoped users are done and the grace period is over (see
// `ClosableService`). Their `close()` is idempotent and lets operations in progress finish first.

extension MemcachedPool: ClosableService {}

extension DynamicMemcachedPool: ClosableService {}

extension PostgresConnectionPool: ClosableService {}
