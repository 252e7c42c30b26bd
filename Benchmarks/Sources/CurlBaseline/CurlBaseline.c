// SPDX-License-Identifier: Apache-2.0

#include "CurlBaseline.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct curl_baseline {
    CURL *handle;
    struct curl_slist *headers;
    char *body;
};

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data;
    (void)context;
    return size * count;
}

static int64_t now_ns(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (int64_t)spec.tv_sec * 1000000000 + spec.tv_nsec;
}

/// The options every handle of the baseline shares.
static void set_common_options(CURL *handle, const char *url) {
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
}

curl_baseline *curl_baseline_open(const char *url, const char *body) {
    curl_baseline *baseline = calloc(1, sizeof(curl_baseline));
    if (baseline == NULL) return NULL;
    baseline->handle = curl_easy_init();
    if (baseline->handle == NULL) {
        curl_baseline_close(baseline);
        return NULL;
    }
    CURL *handle = baseline->handle;
    set_common_options(handle, url);
    if (body != NULL) {
        baseline->body = strdup(body);
        if (baseline->body == NULL) {
            curl_baseline_close(baseline);
            return NULL;
        }
        baseline->headers = curl_slist_append(NULL, "Content-Type: application/json");
        baseline->headers = curl_slist_append(baseline->headers, "Expect:");
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, baseline->headers);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, baseline->body);
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, (long)strlen(baseline->body));
    }
    return baseline;
}

int curl_baseline_run(curl_baseline *baseline, int iterations, int64_t *latencies) {
    for (int i = 0; i < iterations; i++) {
        int64_t start = now_ns();
        CURLcode code = curl_easy_perform(baseline->handle);
        latencies[i] = now_ns() - start;
        if (code != CURLE_OK) return (int)code;
    }
    return 0;
}

long curl_baseline_status(curl_baseline *baseline) {
    long status = 0;
    curl_easy_getinfo(baseline->handle, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

void curl_baseline_close(curl_baseline *baseline) {
    if (baseline->handle != NULL) curl_easy_cleanup(baseline->handle);
    curl_slist_free_all(baseline->headers);
    free(baseline->body);
    free(baseline);
}

struct curl_baseline_multi {
    CURLM *multi;
    int count;
    CURL **handles;
    int64_t *starts;
    int *remaining;
};

curl_baseline_multi *curl_baseline_multi_open(const char *url, int handles) {
    curl_baseline_multi *baseline = calloc(1, sizeof(curl_baseline_multi));
    if (baseline == NULL) return NULL;
    baseline->multi = curl_multi_init();
    baseline->handles = calloc((size_t)handles, sizeof(CURL *));
    baseline->starts = calloc((size_t)handles, sizeof(int64_t));
    baseline->remaining = calloc((size_t)handles, sizeof(int));
    if (baseline->multi == NULL || baseline->handles == NULL || baseline->starts == NULL
        || baseline->remaining == NULL) {
        curl_baseline_multi_close(baseline);
        return NULL;
    }
    for (int i = 0; i < handles; i++) {
        CURL *handle = curl_easy_init();
        if (handle == NULL) {
            curl_baseline_multi_close(baseline);
            return NULL;
        }
        baseline->handles[i] = handle;
        baseline->count = i + 1;
        set_common_options(handle, url);
        curl_easy_setopt(handle, CURLOPT_PRIVATE, (void *)(intptr_t)i);
    }
    return baseline;
}

int curl_baseline_multi_run(curl_baseline_multi *baseline, int iterations, int64_t *latencies) {
    CURLM *multi = baseline->multi;
    int active = 0;
    int stored = 0;
    int failure = 0;
    for (int i = 0; i < baseline->count && iterations > 0; i++) {
        baseline->remaining[i] = iterations;
        baseline->starts[i] = now_ns();
        curl_multi_add_handle(multi, baseline->handles[i]);
        active++;
    }
    while (active > 0) {
        int running = 0;
        CURLMcode multiCode = curl_multi_perform(multi, &running);
        if (multiCode != CURLM_OK) return 1000 + (int)multiCode;
        int restarted = 0;
        int queued = 0;
        CURLMsg *message;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *handle = message->easy_handle;
            CURLcode code = message->data.result;
            void *index = NULL;
            curl_easy_getinfo(handle, CURLINFO_PRIVATE, &index);
            int i = (int)(intptr_t)index;
            latencies[stored++] = now_ns() - baseline->starts[i];
            curl_multi_remove_handle(multi, handle);
            long status = 0;
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
            if (code != CURLE_OK && failure == 0) failure = (int)code;
            if (status != 200 && failure == 0) failure = 10000 + (int)status;
            if (--baseline->remaining[i] > 0 && failure == 0) {
                baseline->starts[i] = now_ns();
                curl_multi_add_handle(multi, handle);
                restarted = 1;
            } else {
                active--;
            }
        }
        // A handle just added starts on the next curl_multi_perform; wait only when none was.
        if (active > 0 && !restarted) {
            multiCode = curl_multi_poll(multi, NULL, 0, 1000, NULL);
            if (multiCode != CURLM_OK) return 1000 + (int)multiCode;
        }
    }
    return failure;
}

void curl_baseline_multi_close(curl_baseline_multi *baseline) {
    for (int i = 0; i < baseline->count; i++) curl_easy_cleanup(baseline->handles[i]);
    if (baseline->multi != NULL) curl_multi_cleanup(baseline->multi);
    free(baseline->handles);
    free(baseline->starts);
    free(baseline->remaining);
    free(baseline);
}

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct curl_baseline_events {
    CURLM *multi;
    CURL *handle;
    int epoll;
    /// In the epoll set: written by curl_baseline_events_wake.
    int wake;
    /// libcurl's last reported timeout (its timer callback).
    long timeout_ms;
    /// The response body of the request in flight, as far as it came (a Consul KV answer fits).
    char body[16384];
    size_t length;
};

static size_t events_keep(char *data, size_t size, size_t count, void *context) {
    curl_baseline_events *baseline = context;
    size_t bytes = size * count;
    if (baseline->length + bytes > sizeof baseline->body) return 0;  // fails the transfer
    memcpy(baseline->body + baseline->length, data, bytes);
    baseline->length += bytes;
    return bytes;
}

static int events_socket(CURL *easy, curl_socket_t socket, int what, void *context, void *socket_context) {
    (void)easy;
    curl_baseline_events *baseline = context;
    if (what == CURL_POLL_REMOVE) {
        if (socket_context != NULL) {
            epoll_ctl(baseline->epoll, EPOLL_CTL_DEL, socket, NULL);
            curl_multi_assign(baseline->multi, socket, NULL);
        }
        return 0;
    }
    struct epoll_event event = {0};
    event.data.fd = socket;
    if (what & CURL_POLL_IN) event.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) event.events |= EPOLLOUT;
    if (socket_context == NULL) {
        epoll_ctl(baseline->epoll, EPOLL_CTL_ADD, socket, &event);
        curl_multi_assign(baseline->multi, socket, baseline);
    } else {
        epoll_ctl(baseline->epoll, EPOLL_CTL_MOD, socket, &event);
    }
    return 0;
}

static int events_timer(CURLM *multi, long timeout_ms, void *context) {
    (void)multi;
    ((curl_baseline_events *)context)->timeout_ms = timeout_ms;
    return 0;
}

curl_baseline_events *curl_baseline_events_open(const char *url) {
    curl_baseline_events *baseline = calloc(1, sizeof(curl_baseline_events));
    if (baseline == NULL) return NULL;
    baseline->epoll = epoll_create1(EPOLL_CLOEXEC);
    baseline->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    baseline->multi = curl_multi_init();
    baseline->handle = curl_easy_init();
    baseline->timeout_ms = -1;
    struct epoll_event event = {0};
    event.events = EPOLLIN;
    event.data.fd = baseline->wake;
    if (baseline->epoll < 0 || baseline->wake < 0 || baseline->multi == NULL || baseline->handle == NULL
        || epoll_ctl(baseline->epoll, EPOLL_CTL_ADD, baseline->wake, &event) != 0) {
        curl_baseline_events_close(baseline);
        return NULL;
    }
    set_common_options(baseline->handle, url);
    curl_easy_setopt(baseline->handle, CURLOPT_WRITEFUNCTION, events_keep);
    curl_easy_setopt(baseline->handle, CURLOPT_WRITEDATA, baseline);
    curl_multi_setopt(baseline->multi, CURLMOPT_SOCKETFUNCTION, events_socket);
    curl_multi_setopt(baseline->multi, CURLMOPT_SOCKETDATA, baseline);
    curl_multi_setopt(baseline->multi, CURLMOPT_TIMERFUNCTION, events_timer);
    curl_multi_setopt(baseline->multi, CURLMOPT_TIMERDATA, baseline);
    return baseline;
}

void curl_baseline_events_start(curl_baseline_events *baseline) {
    baseline->length = 0;
    curl_multi_add_handle(baseline->multi, baseline->handle);
}

int curl_baseline_events_turn(curl_baseline_events *baseline, int wait, int *result) {
    CURLM *multi = baseline->multi;
    int running = 0;
    if (baseline->timeout_ms == 0) {
        baseline->timeout_ms = -1;
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    } else {
        struct epoll_event events[8];
        int count = epoll_wait(baseline->epoll, events, 8, wait ? (int)baseline->timeout_ms : 0);
        if (count == 0 && wait) {
            baseline->timeout_ms = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        for (int e = 0; e < count; e++) {
            if (events[e].data.fd == baseline->wake) {
                uint64_t value;
                if (read(baseline->wake, &value, sizeof value) < 0) {
                    // Already drained: nothing to do.
                }
                continue;
            }
            int mask = 0;
            if (events[e].events & EPOLLIN) mask |= CURL_CSELECT_IN;
            if (events[e].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
            if (events[e].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi, events[e].data.fd, mask, &running);
        }
    }
    int queued = 0;
    int done = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *result = (int)message->data.result;
            done = 1;
        }
    }
    if (done) curl_multi_remove_handle(multi, baseline->handle);
    return done;
}

const char *curl_baseline_events_body(curl_baseline_events *baseline, size_t *length) {
    *length = baseline->length;
    return baseline->body;
}

void curl_baseline_events_wake(curl_baseline_events *baseline) {
    uint64_t one = 1;
    if (write(baseline->wake, &one, sizeof one) < 0) {
        // The counter is full: the set is readable anyway.
    }
}

int curl_baseline_events_run(curl_baseline_events *baseline, int iterations, int64_t *latencies) {
    for (int i = 0; i < iterations; i++) {
        int64_t start = now_ns();
        curl_baseline_events_start(baseline);
        int result = CURLE_OK;
        while (!curl_baseline_events_turn(baseline, 1, &result)) {
        }
        latencies[i] = now_ns() - start;
        if (result != CURLE_OK) return result;
    }
    return 0;
}

void curl_baseline_events_close(curl_baseline_events *baseline) {
    if (baseline->handle != NULL) curl_easy_cleanup(baseline->handle);
    if (baseline->multi != NULL) curl_multi_cleanup(baseline->multi);
    if (baseline->epoll >= 0) close(baseline->epoll);
    if (baseline->wake >= 0) close(baseline->wake);
    free(baseline);
}
