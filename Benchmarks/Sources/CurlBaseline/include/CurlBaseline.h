// SPDX-License-Identifier: Apache-2.0
//
// The floor for etcd's JSON gateway: the same range request, done with libcurl in a plain C loop over one
// kept-alive connection (one easy handle reused), with nothing else around it.

#ifndef CURL_BASELINE_H
#define CURL_BASELINE_H

#include <stdint.h>

/// POSTs `body` to `url` `iterations` times over one connection, storing each request's latency in
/// nanoseconds in `latencies` (which holds `iterations` values). Returns 0, or the first failing CURLcode.
int curl_baseline_post_loop(const char *_Nonnull url, const char *_Nonnull body, int iterations,
                            int64_t *_Nonnull latencies);

#endif
