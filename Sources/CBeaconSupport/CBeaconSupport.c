// SPDX-License-Identifier: Apache-2.0

// For pthread_setname_np in Glibc's <pthread.h>.
#define _GNU_SOURCE 1

#include "CBeaconSupport.h"

#include <pthread.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CBEACON_THREAD_SANITIZER 1
#endif
#endif

#ifdef CBEACON_THREAD_SANITIZER
// ThreadSanitizer's runtime interface (compiler-rt's tsan_interface.h), declared here so that no header of the
// runtime is needed.
void __tsan_acquire(void *address);
void __tsan_release(void *address);
#endif

void cbeacon_tsan_acquire(void *address) {
#ifdef CBEACON_THREAD_SANITIZER
    __tsan_acquire(address);
#else
    (void)address;
#endif
}

void cbeacon_tsan_release(void *address) {
#ifdef CBEACON_THREAD_SANITIZER
    __tsan_release(address);
#else
    (void)address;
#endif
}

__attribute__((noinline)) uintptr_t cbeacon_stack_address(void) {
    return (uintptr_t)__builtin_frame_address(0);
}

int cbeacon_set_thread_name(const char *name) {
#if defined(__APPLE__)
    return pthread_setname_np(name);
#else
    return pthread_setname_np(pthread_self(), name);
#endif
}
