// SPDX-License-Identifier: Apache-2.0

#include "PQBaseline.h"

#include <postgresql/libpq-fe.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int pq_baseline_connect_loop(const char *const *keywords, const char *const *values, int iterations,
                             int64_t *latencies) {
    for (int i = 0; i < iterations; i++) {
        int64_t start = now_ns();
        PGconn *conn = PQconnectdbParams(keywords, values, 0);
        int ok = PQstatus(conn) == CONNECTION_OK;
        latencies[i] = now_ns() - start;
        PQfinish(conn);
        if (!ok) return 1;
    }
    return 0;
}
