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

curl_baseline *curl_baseline_open(const char *url, const char *body) {
    curl_baseline *baseline = calloc(1, sizeof(curl_baseline));
    if (baseline == NULL) return NULL;
    baseline->handle = curl_easy_init();
    baseline->body = strdup(body);
    if (baseline->handle == NULL || baseline->body == NULL) {
        curl_baseline_close(baseline);
        return NULL;
    }
    baseline->headers = curl_slist_append(NULL, "Content-Type: application/json");
    baseline->headers = curl_slist_append(baseline->headers, "Expect:");
    CURL *handle = baseline->handle;
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, baseline->headers);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, baseline->body);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, (long)strlen(baseline->body));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
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

void curl_baseline_close(curl_baseline *baseline) {
    if (baseline->handle != NULL) curl_easy_cleanup(baseline->handle);
    curl_slist_free_all(baseline->headers);
    free(baseline->body);
    free(baseline);
}
