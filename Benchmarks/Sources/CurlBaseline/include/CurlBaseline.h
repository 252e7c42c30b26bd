// SPDX-License-Identifier: Apache-2.0
//
// The floor for the HTTP clients (etcd's JSON gateway, Consul's HTTP API): the same requests, done with libcurl in
// plain C loops over kept-alive connections (easy handles reused), with nothing else around them.

#ifndef CURL_BASELINE_H
#define CURL_BASELINE_H

#include <stddef.h>
#include <stdint.h>

/// An easy handle set up to send one request to one URL, kept between rounds so that its connection stays open.
typedef struct curl_baseline curl_baseline;

/// Creates the handle: a POST of `body` (as JSON), or a plain GET when `body` is `NULL`. `NULL` when libcurl cannot.
curl_baseline *_Nullable curl_baseline_open(const char *_Nonnull url, const char *_Nullable body);

/// Sends the request `iterations` times, storing each request's latency in nanoseconds in `latencies` (which holds
/// `iterations` values). Returns 0, or the first failing CURLcode.
int curl_baseline_run(curl_baseline *_Nonnull baseline, int iterations, int64_t *_Nonnull latencies);

/// The HTTP status of the last response, 0 before the first.
long curl_baseline_status(curl_baseline *_Nonnull baseline);

/// Frees the handle and closes its connection.
void curl_baseline_close(curl_baseline *_Nonnull baseline);

/// `handles` easy handles on one multi handle, all driven by the calling thread: each repeats a GET of one URL over
/// its own kept-alive connection, so that `handles` requests are in flight at once. Kept between rounds.
typedef struct curl_baseline_multi curl_baseline_multi;

/// Creates the handles; `NULL` when libcurl cannot.
curl_baseline_multi *_Nullable curl_baseline_multi_open(const char *_Nonnull url, int handles);

/// Has each handle send its GET `iterations` times (a finished request is followed at once by the handle's next),
/// with `curl_multi_perform` and `curl_multi_poll` in a loop, storing each request's latency in nanoseconds in
/// `latencies` (which holds `handles * iterations` values). Returns 0, the first failing CURLcode, a failing
/// CURLMcode plus 1000, or the first HTTP status other than 200 plus 10000.
int curl_baseline_multi_run(curl_baseline_multi *_Nonnull baseline, int iterations, int64_t *_Nonnull latencies);

/// Frees the handles and closes their connections.
void curl_baseline_multi_close(curl_baseline_multi *_Nonnull baseline);

/// One easy handle driven the way BeaconHTTP drives its handles: libcurl's multi-socket interface
/// (`curl_multi_socket_action`), its sockets in an epoll set and its timer, the handle added to the multi handle
/// for each request and removed after, all on the calling thread. The floor for BeaconHTTP's own design, beside
/// ``curl_baseline_run``'s `curl_easy_perform` (which polls).
typedef struct curl_baseline_events curl_baseline_events;
/// Creates the handles and the epoll set; `NULL` when they cannot be made.
curl_baseline_events *_Nullable curl_baseline_events_open(const char *_Nonnull url);
/// Sends a GET `iterations` times, one after the other, storing each latency in nanoseconds in `latencies`. Returns
/// 0, or the first failing CURLcode.
int curl_baseline_events_run(curl_baseline_events *_Nonnull baseline, int iterations, int64_t *_Nonnull latencies);
/// Adds the handle to the multi handle: its GET starts on the next turn. The turns that follow deliver it.
void curl_baseline_events_start(curl_baseline_events *_Nonnull baseline);
/// One turn of the loop: libcurl's timer when it is due, else one `epoll_wait` (for as long as libcurl's timer
/// allows when `wait` is nonzero, not at all otherwise) and `curl_multi_socket_action` for each ready socket. Returns
/// 1 when the request finished (its CURLcode in `result`, the handle out of the multi handle again), 0 otherwise.
/// A turn that waits ends early when ``curl_baseline_events_wake`` is called from another thread.
int curl_baseline_events_turn(curl_baseline_events *_Nonnull baseline, int wait, int *_Nonnull result);
/// The body of the last response (valid until the next start).
const char *_Nonnull curl_baseline_events_body(curl_baseline_events *_Nonnull baseline, size_t *_Nonnull length);
/// Ends a turn's wait, now or at its next start.
void curl_baseline_events_wake(curl_baseline_events *_Nonnull baseline);
/// Frees the handles and the epoll set and closes the connection.
void curl_baseline_events_close(curl_baseline_events *_Nonnull baseline);
#endif
