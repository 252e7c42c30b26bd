// SPDX-License-Identifier: Apache-2.0

#include "CurlBaseline.h"

#include <curl/curl.h>
#include <string.h>
#include <time.h>

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

int curl_baseline_post_loop(const char *url, const char *body, int iterations, int64_t *latencies) {
    CURL *handle = curl_easy_init();
    if (handle == NULL) return CURLE_FAILED_INIT;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
    int result = 0;
    for (int i = 0; i < iterations; i++) {
        int64_t start = now_ns();
        CURLcode code = curl_easy_perform(handle);
        latencies[i] = now_ns() - start;
        if (code != CURLE_OK) {
            result = (int)code;
            break;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
    return result;
}
