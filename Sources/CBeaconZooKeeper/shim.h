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

#endif
