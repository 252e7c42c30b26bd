// SPDX-License-Identifier: Apache-2.0
//
// libcurl for Swift. `curl_easy_setopt`, `curl_easy_getinfo` and `curl_multi_setopt` are variadic
// C functions, which Swift cannot call: these typed wrappers take one argument of each kind.

#ifndef CBEACON_CURL_SHIM_H
#define CBEACON_CURL_SHIM_H

#include <curl/curl.h>

static inline CURLcode cbeacon_curl_easy_setopt_long(CURL *_Nonnull handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cbeacon_curl_easy_setopt_string(CURL *_Nonnull handle, CURLoption option,
                                                       const char *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cbeacon_curl_easy_setopt_pointer(CURL *_Nonnull handle, CURLoption option,
                                                        void *_Nullable value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode cbeacon_curl_easy_setopt_off_t(CURL *_Nonnull handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*cbeacon_curl_data_callback)(char *_Nonnull data, size_t size, size_t count, void *_Nullable context);

static inline CURLcode cbeacon_curl_easy_setopt_data_callback(CURL *_Nonnull handle, CURLoption option,
                                                              cbeacon_curl_data_callback _Nullable callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode cbeacon_curl_easy_getinfo_long(CURL *_Nonnull handle, CURLINFO info, long *_Nonnull value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode cbeacon_curl_easy_getinfo_pointer(CURL *_Nonnull handle, CURLINFO info,
                                                         void *_Nullable *_Nonnull value) {
    return curl_easy_getinfo(handle, info, value);
}

/// `curl_version_info(CURLVERSION_NOW)`: the macro is not visible to Swift.
static inline curl_version_info_data *_Nonnull cbeacon_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

static inline CURLMcode cbeacon_curl_multi_setopt_long(CURLM *_Nonnull handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

/// `curl_global_init(CURL_GLOBAL_DEFAULT)`: the flag is a macro expression.
static inline CURLcode cbeacon_curl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/// `curl_easy_pause(handle, CURLPAUSE_CONT)`: resumes a transfer paused by its write callback.
static inline CURLcode cbeacon_curl_easy_unpause(CURL *_Nonnull handle) {
    return curl_easy_pause(handle, CURLPAUSE_CONT);
}

/// `CURL_WRITEFUNC_PAUSE`: returned by a write callback to pause the transfer without consuming the data.
static inline size_t cbeacon_curl_writefunc_pause(void) {
    return CURL_WRITEFUNC_PAUSE;
}

/// `CURL_HTTP_VERSION_1_1`, as the `long` that `CURLOPT_HTTP_VERSION` takes.
static inline long cbeacon_curl_http_version_1_1(void) {
    return CURL_HTTP_VERSION_1_1;
}

#endif
