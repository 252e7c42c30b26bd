// SPDX-License-Identifier: Apache-2.0
//
// The floor for memcached operations: libmemcached called directly from C, in plain loops, with the options
// MemcachedPool.Configuration sets by default (consistent distribution, TCP_NODELAY, CAS support, the same timeouts).

#ifndef MEMCACHED_BASELINE_H
#define MEMCACHED_BASELINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct memcached_baseline memcached_baseline;

/// Creates a handle over `count` servers given as host names and ports; NULL on failure.
memcached_baseline *_Nullable memcached_baseline_create(const char *_Nonnull const *_Nonnull hosts,
                                                        const int *_Nonnull ports, int count);

/// Frees the handle.
void memcached_baseline_free(memcached_baseline *_Nonnull baseline);

/// `iterations` memcached_get calls cycling over `count` keys; returns the elapsed nanoseconds, or -1 when a
/// get fails or misses.
int64_t memcached_baseline_get_loop(memcached_baseline *_Nonnull baseline, const char *_Nonnull const *_Nonnull keys,
                                    int count, int iterations);

/// `iterations` memcached_set calls cycling over `count` keys with the same value; -1 on failure.
int64_t memcached_baseline_set_loop(memcached_baseline *_Nonnull baseline, const char *_Nonnull const *_Nonnull keys,
                                    int count, const char *_Nonnull value, size_t value_length, int iterations);

/// `iterations` memcached_mget calls for all `count` keys, each followed by memcached_fetch of every key (a
/// malloc'd copy of each value, freed at once); -1 when a key is missing.
int64_t memcached_baseline_get_multi_loop(memcached_baseline *_Nonnull baseline,
                                          const char *_Nonnull const *_Nonnull keys, int count, int iterations);

/// `threads` threads started together, thread `i` owning `baselines[i]`, each making `iterations` memcached_get
/// calls cycling over `count` keys and writing each call's latency in nanoseconds into
/// `latencies[i * iterations ...]`; returns the elapsed nanoseconds from the common start to the last thread's end,
/// or -1 when a get fails or misses.
int64_t memcached_baseline_parallel_get(memcached_baseline *_Nonnull const *_Nonnull baselines, int threads,
                                        const char *_Nonnull const *_Nonnull keys, int count, int iterations,
                                        int64_t *_Nonnull latencies);

#endif
