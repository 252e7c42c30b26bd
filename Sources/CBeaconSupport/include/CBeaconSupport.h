// SPDX-License-Identifier: Apache-2.0

// What Swift cannot say by itself: ThreadSanitizer's lock annotations, the address of the machine stack, and thread
// names.

#ifndef CBEACON_SUPPORT_H
#define CBEACON_SUPPORT_H

#include <stdint.h>

/// Tells ThreadSanitizer that the calling thread now holds the lock identified by `address`: what the last holder
/// did before `cbeacon_tsan_release(address)` happened before what this thread does next. Does nothing unless this
/// file was compiled with `-fsanitize=thread`.
void cbeacon_tsan_acquire(void *address);

/// Tells ThreadSanitizer that the calling thread is about to release the lock identified by `address`. Does
/// nothing unless this file was compiled with `-fsanitize=thread`.
void cbeacon_tsan_release(void *address);

/// The address of the caller's frame on the thread's machine stack. Unlike the address of a Swift local, it is
/// never on AddressSanitizer's heap-allocated fake stack, so it can be compared with the thread's stack bounds.
uintptr_t cbeacon_stack_address(void);

/// Names the calling thread (`pthread_setname_np`, which Glibc declares only with `_GNU_SOURCE`). Linux keeps at most
/// 15 bytes and refuses a longer name, leaving the thread's name unchanged.
///
/// Returns 0, or the error `pthread_setname_np` returned.
int cbeacon_set_thread_name(const char *name);

#endif
