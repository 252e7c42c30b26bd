// SPDX-License-Identifier: Apache-2.0
//
// The floor for etcd's JSON gateway: the same range request, done with libcurl in a plain C loop over one
// kept-alive connection (one easy handle reused), with nothing else around it.

#ifndef CURL_BASELINE_H
#define CURL_BASELINE_H

#include <stdint.h>

/// An easy handle set up to POST one body to one URL, kept between rounds so that its connection stays open.
typedef struct curl_baseline curl_baseline;

/// Creates the handle; `NULL` when libcurl cannot.
curl_baseline *_Nullable curl_baseline_open(const char *_Nonnull url, const char *_Nonnull body);

/// POSTs the body `iterations` times, storing each request's latency in nanoseconds in `latencies` (which holds
/// `iterations` values). Returns 0, or the first failing CURLcode.
int curl_baseline_run(curl_baseline *_Nonnull baseline, int iterations, int64_t *_Nonnull latencies);

/// Frees the handle and closes its connection.
void curl_baseline_close(curl_baseline *_Nonnull baseline);

#endif
