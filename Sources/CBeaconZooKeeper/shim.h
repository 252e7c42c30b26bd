// SPDX-License-Identifier: Apache-2.0
//
// libzookeeper_mt for Swift. The synchronous API (`zoo_get`, `zoo_create`, ...) is declared only when
// `THREADED` is defined before the header is included; the multi-threaded library implements it.

#ifndef CBEACON_ZOOKEEPER_SHIM_H
#define CBEACON_ZOOKEEPER_SHIM_H

#ifndef THREADED
#define THREADED 1
#endif

#include <zookeeper/zookeeper.h>

/// The "world: anyone" ACL. The library exports it as a mutable global, which Swift's strict concurrency
/// checking refuses to touch; the library never writes it, so handing out its address is safe.
static inline struct ACL_vector *_Nonnull cbeacon_zoo_open_acl_unsafe(void) {
    return &ZOO_OPEN_ACL_UNSAFE;
}

#endif
