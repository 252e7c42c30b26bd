// SPDX-License-Identifier: Apache-2.0
//
// libmemcached (and libmemcachedutil, for pools and ping) for Swift.

#ifndef CBEACON_MEMCACHED_SHIM_H
#define CBEACON_MEMCACHED_SHIM_H

#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#endif
