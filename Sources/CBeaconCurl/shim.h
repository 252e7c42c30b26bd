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

#endif
