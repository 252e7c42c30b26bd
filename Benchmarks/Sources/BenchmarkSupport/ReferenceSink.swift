// SPDX-License-Identifier: Apache-2.0

/// Keeps a class reference opaque to the optimiser, for benchmarks whose operations each return one.
///
/// Unlike the generic ``blackHole(_:)``, it copies nothing through value witnesses: the caller passes the
/// reference without retaining it, so per operation it adds one call, which matters when the operation itself
/// costs a few nanoseconds. The optimiser cannot see the body, so it cannot drop the operation that produced
/// the reference, nor the reference counting the caller does for it.
///
/// - Parameter object: The reference a measured operation returned, or `nil`.
@inline(never)
@_optimize(none)
public func blackHoleReference(_ object: AnyObject?) {}
