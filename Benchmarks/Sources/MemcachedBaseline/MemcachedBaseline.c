// SPDX-License-Identifier: Apache-2.0

#include "MemcachedBaseline.h"

#include <libmemcached/memcached.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct memcached_baseline {
    memcached_st *handle;
};

static int64_t now_ns(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (int64_t)spec.tv_sec * 1000000000 + spec.tv_nsec;
}

memcached_baseline *memcached_baseline_create(const char *const *hosts, const int *ports, int count) {
    memcached_st *handle = memcached_create(NULL);
    if (handle == NULL) return NULL;
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 1000);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1000);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 2);
    memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 2);
    for (int i = 0; i < count; i++) {
        if (memcached_failed(memcached_server_add_with_weight(handle, hosts[i], (in_port_t)ports[i], 1))) {
            memcached_free(handle);
            return NULL;
        }
    }
    memcached_baseline *baseline = malloc(sizeof(memcached_baseline));
    if (baseline == NULL) {
        memcached_free(handle);
        return NULL;
    }
    baseline->handle = handle;
    return baseline;
}

void memcached_baseline_free(memcached_baseline *baseline) {
    memcached_free(baseline->handle);
    free(baseline);
}

int64_t memcached_baseline_get_loop(memcached_baseline *baseline, const char *const *keys, int count,
                                    int iterations) {
    int64_t start = now_ns();
    for (int i = 0; i < iterations; i++) {
        const char *key = keys[i % count];
        size_t length = 0;
        uint32_t flags = 0;
        memcached_return_t rc;
        char *value = memcached_get(baseline->handle, key, strlen(key), &length, &flags, &rc);
        if (value == NULL) return -1;
        free(value);
    }
    return now_ns() - start;
}

int64_t memcached_baseline_set_loop(memcached_baseline *baseline, const char *const *keys, int count,
                                    const char *value, size_t value_length, int iterations) {
    int64_t start = now_ns();
    for (int i = 0; i < iterations; i++) {
        const char *key = keys[i % count];
        memcached_return_t rc = memcached_set(baseline->handle, key, strlen(key), value, value_length, 0, 0);
        if (memcached_failed(rc)) return -1;
    }
    return now_ns() - start;
}

int64_t memcached_baseline_get_multi_loop(memcached_baseline *baseline, const char *const *keys, int count,
                                          int iterations) {
    size_t *lengths = malloc(sizeof(size_t) * (size_t)count);
    if (lengths == NULL) return -1;
    for (int i = 0; i < count; i++) lengths[i] = strlen(keys[i]);
    int64_t start = now_ns();
    int64_t outcome = 0;
    for (int i = 0; i < iterations && outcome == 0; i++) {
        if (memcached_failed(memcached_mget(baseline->handle, keys, lengths, (size_t)count))) {
            outcome = -1;
            break;
        }
        // memcached_fetch hands out each key and a malloc'd copy of each value, as memcached_get does for one
        // key: the least a caller that keeps the values needs.
        int found = 0;
        char key[MEMCACHED_MAX_KEY];
        size_t key_length = 0;
        size_t value_length = 0;
        uint32_t flags = 0;
        memcached_return_t rc;
        char *value;
        while ((value = memcached_fetch(baseline->handle, key, &key_length, &value_length, &flags, &rc)) != NULL) {
            found++;
            free(value);
        }
        if (found != count) outcome = -1;
    }
    if (outcome == 0) outcome = now_ns() - start;
    free(lengths);
    return outcome;
}

struct parallel_worker {
    memcached_baseline *baseline;
    const char *const *keys;
    int count;
    int iterations;
    int64_t *latencies;
    pthread_barrier_t *start;
    int failed;
};

static void *parallel_get_worker(void *argument) {
    struct parallel_worker *worker = argument;
    pthread_barrier_wait(worker->start);
    for (int i = 0; i < worker->iterations; i++) {
        const char *key = worker->keys[i % worker->count];
        size_t length = 0;
        uint32_t flags = 0;
        memcached_return_t rc;
        int64_t before = now_ns();
        char *value = memcached_get(worker->baseline->handle, key, strlen(key), &length, &flags, &rc);
        worker->latencies[i] = now_ns() - before;
        if (value == NULL) {
            worker->failed = 1;
            return NULL;
        }
        free(value);
    }
    return NULL;
}

int64_t memcached_baseline_parallel_get(memcached_baseline *const *baselines, int threads, const char *const *keys,
                                        int count, int iterations, int64_t *latencies) {
    pthread_t ids[threads];
    struct parallel_worker workers[threads];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        workers[i] = (struct parallel_worker){baselines[i], keys, count, iterations, latencies + (size_t)i * iterations,
                                              &start, 0};
        pthread_create(&ids[i], NULL, parallel_get_worker, &workers[i]);
    }
    pthread_barrier_wait(&start);
    int64_t begin = now_ns();
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        failed |= workers[i].failed;
    }
    int64_t elapsed = now_ns() - begin;
    pthread_barrier_destroy(&start);
    return failed ? -1 : elapsed;
}
