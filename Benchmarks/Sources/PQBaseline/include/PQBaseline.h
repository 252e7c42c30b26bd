// SPDX-License-Identifier: Apache-2.0
//
// The floor for opening a PostgreSQL connection: blocking PQconnectdbParams then PQfinish, in a plain C loop.

#ifndef PQ_BASELINE_H
#define PQ_BASELINE_H

#include <stdint.h>

/// Connects with the NULL-terminated keyword/value arrays and closes the connection, `iterations` times, storing
/// each connect's latency in nanoseconds in `latencies`. Returns 0, or 1 when a connection failed.
int pq_baseline_connect_loop(const char *_Nonnull const *_Nonnull keywords,
                             const char *_Nonnull const *_Nonnull values, int iterations,
                             int64_t *_Nonnull latencies);

#endif
