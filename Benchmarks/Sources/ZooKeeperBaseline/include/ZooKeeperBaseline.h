// SPDX-License-Identifier: Apache-2.0
//
// The floor for ZooKeeper requests: libzookeeper_mt's synchronous calls (`zoo_get`, `zoo_set`, `zoo_wget`) in
// plain C loops and threads, with nothing else around them. A synchronous call sends the request from the calling
// thread and is woken by libzookeeper's I/O thread when the answer is read.

#ifndef ZOOKEEPER_BASELINE_H
#define ZOOKEEPER_BASELINE_H

#include <stdint.h>

/// A libzookeeper handle with its own session, connected.
typedef struct zk_baseline zk_baseline;

/// Opens a handle to `servers` (`host:port,...`) and waits up to `timeout_ms` for its session; `NULL` when it
/// does not connect. `resolution_delay_ms` goes to `zoo_set_servers_resolution_delay` unless it is 0 (libzookeeper's
/// default: the server names are resolved again each time the I/O thread checks the socket). libzookeeper's log is
/// discarded.
zk_baseline *_Nullable zk_baseline_open(const char *_Nonnull servers, int timeout_ms, int resolution_delay_ms);

/// Closes the handle (ends its session).
void zk_baseline_close(zk_baseline *_Nonnull baseline);

/// `iterations` sequential `zoo_get` calls of `path` from the calling thread, each request's latency in nanoseconds
/// stored in `latencies` (which holds `iterations` values). Returns 0, or the first failing ZooKeeper code.
int zk_baseline_get_loop(zk_baseline *_Nonnull baseline, const char *_Nonnull path, int iterations,
                         int64_t *_Nonnull latencies);

/// `threads` threads, all sharing the one handle, each making `iterations_per_thread` sequential `zoo_get` calls;
/// latencies go to `latencies` (`threads * iterations_per_thread` values), the wall-clock time from the threads'
/// common start to the last one's end to `elapsed_ns`. Returns 0, or the first failing ZooKeeper code.
int zk_baseline_get_threads(zk_baseline *_Nonnull baseline, const char *_Nonnull path, int threads,
                            int iterations_per_thread, int64_t *_Nonnull latencies, int64_t *_Nonnull elapsed_ns);

/// Watch propagation, `iterations` times: `zoo_set` of `path` on `writer` (the value is the iteration's number in
/// decimal), then waits for the data watch armed on `watcher` to fire and reads the node again with `zoo_wget`
/// (re-arming the watch), until it holds that value. Each iteration's time from before the set to the read that
/// returns the value goes to `latencies`. The node must exist. Returns 0, or the first failing ZooKeeper code
/// (`ZOPERATIONTIMEOUT`, -7, when no event comes within 5 s).
int zk_baseline_watch_loop(zk_baseline *_Nonnull writer, zk_baseline *_Nonnull watcher, const char *_Nonnull path,
                           int iterations, int64_t *_Nonnull latencies);

#endif
