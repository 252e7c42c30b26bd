// SPDX-License-Identifier: Apache-2.0

import Beacon
import FuzzSupport

@testable import BeaconPostgres

/// One fuzz input: the value of a discovery key holding PostgreSQL connection parameters, a JSON object or a
/// `postgresql://` URI, read by `PostgresParameters(parsing:)` as `PostgresConnectionFactory` reads it; what
/// parses is then turned into libpq's keywords and described, as a connection attempt and its log line do.
/// A thrown `PostgresError` is fine; anything else is a finding.
func fuzzPostgresParameters(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let entry = KeyValue(key: "/db/main", value: FuzzInput.bytes(data, size), version: 1)
    guard let parameters = try? PostgresParameters(parsing: entry) else { return 0 }
    _ = parameters.libpqOptions
    _ = parameters.description
    return 0
}
