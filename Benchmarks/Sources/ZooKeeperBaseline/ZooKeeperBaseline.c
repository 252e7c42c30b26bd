// SPDX-License-Identifier: Apache-2.0

// libzookeeper declares its synchronous API only for the multi-threaded library.
#define THREADED 1

#include "ZooKeeperBaseline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

struct zk_baseline {
    zhandle_t *handle;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int connected;
    /// Data watch events not yet taken by zk_baseline_watch_loop.
    int events;
};

static int64_t now_ns(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (int64_t)spec.tv_sec * 1000000000 + spec.tv_nsec;
}

static void discard_log(const char *message) { (void)message; }

/// The handle's global watcher: records the connection (on libzookeeper's completion thread).
static void session_watcher(zhandle_t *handle, int type, int state, const char *path, void *context) {
    (void)handle;
    (void)path;
    zk_baseline *baseline = context;
    if (type != ZOO_SESSION_EVENT) return;
    pthread_mutex_lock(&baseline->lock);
    baseline->connected = state == ZOO_CONNECTED_STATE;
    pthread_cond_broadcast(&baseline->changed);
    pthread_mutex_unlock(&baseline->lock);
}

/// The data watch of zk_baseline_watch_loop: counts the event and wakes the loop.
static void data_watcher(zhandle_t *handle, int type, int state, const char *path, void *context) {
    (void)handle;
    (void)state;
    (void)path;
    zk_baseline *baseline = context;
    if (type == ZOO_SESSION_EVENT) return;
    pthread_mutex_lock(&baseline->lock);
    baseline->events += 1;
    pthread_cond_broadcast(&baseline->changed);
    pthread_mutex_unlock(&baseline->lock);
}

/// A deadline `ms` milliseconds from now on the realtime clock, for pthread_cond_timedwait.
static struct timespec deadline_in(int ms) {
    struct timespec spec;
    clock_gettime(CLOCK_REALTIME, &spec);
    spec.tv_sec += ms / 1000;
    spec.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (spec.tv_nsec >= 1000000000L) {
        spec.tv_sec += 1;
        spec.tv_nsec -= 1000000000L;
    }
    return spec;
}

zk_baseline *zk_baseline_open(const char *servers, int timeout_ms, int resolution_delay_ms) {
    zk_baseline *baseline = calloc(1, sizeof(zk_baseline));
    if (baseline == NULL) return NULL;
    pthread_mutex_init(&baseline->lock, NULL);
    pthread_cond_init(&baseline->changed, NULL);
    // The global watcher may run before zookeeper_init2 returns: it only touches the fields set up above.
    baseline->handle = zookeeper_init2(servers, session_watcher, 10000, NULL, baseline, 0, discard_log);
    if (baseline->handle == NULL) {
        free(baseline);
        return NULL;
    }
    if (resolution_delay_ms != 0) zoo_set_servers_resolution_delay(baseline->handle, resolution_delay_ms);
    struct timespec deadline = deadline_in(timeout_ms);
    pthread_mutex_lock(&baseline->lock);
    while (!baseline->connected) {
        if (pthread_cond_timedwait(&baseline->changed, &baseline->lock, &deadline) == ETIMEDOUT) break;
    }
    int connected = baseline->connected;
    pthread_mutex_unlock(&baseline->lock);
    if (!connected) {
        zk_baseline_close(baseline);
        return NULL;
    }
    return baseline;
}

void zk_baseline_close(zk_baseline *baseline) {
    zookeeper_close(baseline->handle);
    pthread_cond_destroy(&baseline->changed);
    pthread_mutex_destroy(&baseline->lock);
    free(baseline);
}

int zk_baseline_get_loop(zk_baseline *baseline, const char *path, int iterations, int64_t *latencies) {
    char buffer[1024];
    for (int i = 0; i < iterations; i++) {
        int length = (int)sizeof(buffer);
        struct Stat stat;
        int64_t start = now_ns();
        int code = zoo_get(baseline->handle, path, 0, buffer, &length, &stat);
        latencies[i] = now_ns() - start;
        if (code != ZOK) return code;
        if (length <= 0) return ZNONODE;
    }
    return 0;
}

struct get_thread {
    pthread_t thread;
    zk_baseline *baseline;
    const char *path;
    int iterations;
    int64_t *latencies;
    int code;
    int64_t end;
    pthread_barrier_t *barrier;
};

static void *get_thread_main(void *argument) {
    struct get_thread *thread = argument;
    pthread_barrier_wait(thread->barrier);
    thread->code = zk_baseline_get_loop(thread->baseline, thread->path, thread->iterations, thread->latencies);
    thread->end = now_ns();
    return NULL;
}

int zk_baseline_get_threads(zk_baseline *baseline, const char *path, int threads, int iterations_per_thread,
                            int64_t *latencies, int64_t *elapsed_ns) {
    struct get_thread *state = calloc((size_t)threads, sizeof(struct get_thread));
    if (state == NULL) return ZSYSTEMERROR;
    pthread_barrier_t barrier;
    // The threads and this one start together once all are created.
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    int started = 0;
    for (; started < threads; started++) {
        struct get_thread *thread = &state[started];
        thread->baseline = baseline;
        thread->path = path;
        thread->iterations = iterations_per_thread;
        thread->latencies = latencies + (size_t)started * (size_t)iterations_per_thread;
        thread->barrier = &barrier;
        if (pthread_create(&thread->thread, NULL, get_thread_main, thread) != 0) break;
    }
    // The threads already created wait at the barrier for the missing ones: there is no going on without them.
    if (started < threads) abort();
    pthread_barrier_wait(&barrier);
    int64_t start = now_ns();
    int64_t end = start;
    int code = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(state[i].thread, NULL);
        if (state[i].end > end) end = state[i].end;
        if (code == 0) code = state[i].code;
    }
    *elapsed_ns = end - start;
    pthread_barrier_destroy(&barrier);
    free(state);
    return code;
}

int zk_baseline_watch_loop(zk_baseline *writer, zk_baseline *watcher, const char *path, int iterations,
                           int64_t *latencies) {
    char buffer[64];
    int length = (int)sizeof(buffer);
    struct Stat stat;
    int code = zoo_wget(watcher->handle, path, data_watcher, watcher, buffer, &length, &stat);
    if (code != ZOK) return code;
    for (int i = 0; i < iterations; i++) {
        char value[16];
        int value_length = snprintf(value, sizeof(value), "%d", i);
        int64_t start = now_ns();
        code = zoo_set(writer->handle, path, value, value_length, -1);
        if (code != ZOK) return code;
        for (;;) {
            struct timespec deadline = deadline_in(5000);
            pthread_mutex_lock(&watcher->lock);
            while (watcher->events == 0) {
                if (pthread_cond_timedwait(&watcher->changed, &watcher->lock, &deadline) == ETIMEDOUT) break;
            }
            int events = watcher->events;
            watcher->events = 0;
            pthread_mutex_unlock(&watcher->lock);
            if (events == 0) return ZOPERATIONTIMEOUT;
            length = (int)sizeof(buffer);
            code = zoo_wget(watcher->handle, path, data_watcher, watcher, buffer, &length, &stat);
            if (code != ZOK) return code;
            if (length == value_length && memcmp(buffer, value, (size_t)value_length) == 0) break;
        }
        latencies[i] = now_ns() - start;
    }
    return 0;
}
