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

static inline CURLMcode cbeacon_curl_multi_setopt_pointer(CURLM *_Nonnull handle, CURLMoption option,
                                                          void *_Nullable value) {
    return curl_multi_setopt(handle, option, value);
}

typedef int (*cbeacon_curl_socket_callback)(CURL *_Nonnull easy, curl_socket_t socket, int what,
                                            void *_Nullable context, void *_Nullable socketContext);

/// `CURLMOPT_SOCKETFUNCTION`: libcurl says which sockets to wait for, and for what.
static inline CURLMcode cbeacon_curl_multi_set_socket_callback(CURLM *_Nonnull handle,
                                                               cbeacon_curl_socket_callback _Nonnull callback,
                                                               void *_Nullable context) {
    CURLMcode code = curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, callback);
    return code != CURLM_OK ? code : curl_multi_setopt(handle, CURLMOPT_SOCKETDATA, context);
}

typedef int (*cbeacon_curl_timer_callback)(CURLM *_Nonnull multi, long milliseconds, void *_Nullable context);

/// `CURLMOPT_TIMERFUNCTION`: libcurl says when it next wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`.
static inline CURLMcode cbeacon_curl_multi_set_timer_callback(CURLM *_Nonnull handle,
                                                              cbeacon_curl_timer_callback _Nonnull callback,
                                                              void *_Nullable context) {
    CURLMcode code = curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, callback);
    return code != CURLM_OK ? code : curl_multi_setopt(handle, CURLMOPT_TIMERDATA, context);
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

// MARK: The I/O thread's readiness wait (Linux epoll and eventfd)
//
// epoll because a socket registered from any thread joins a wait already in progress: a task can send its
// request itself and leave the I/O thread asleep until the answer arrives. `struct epoll_event` is packed on
// x86-64, so Swift gets these two helpers instead of the struct.

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/// `epoll_ctl` with an event that carries the file descriptor.
static inline int cbeacon_epoll_control(int epoll, int operation, int fd, unsigned int events) {
    struct epoll_event event = {.events = events, .data = {.fd = fd}};
    return epoll_ctl(epoll, operation, fd, &event);
}

/// `epoll_wait` for at most 64 events, unpacked into two arrays.
static inline int cbeacon_epoll_wait(int epoll, int *_Nonnull fds, unsigned int *_Nonnull events, int capacity,
                                     int milliseconds) {
    struct epoll_event list[64];
    int count = epoll_wait(epoll, list, capacity < 64 ? capacity : 64, milliseconds);
    for (int index = 0; index < count; index++) {
        fds[index] = list[index].data.fd;
        events[index] = list[index].events;
    }
    return count;
}

/// A non-blocking, close-on-exec eventfd: the I/O thread's wake-up.
static inline int cbeacon_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}
#endif

#endif
