// SPDX-License-Identifier: Apache-2.0
//
// libpq for Swift. pkg-config `libpq` adds the `postgresql/` include directory.

#ifndef CBEACON_LIBPQ_SHIM_H
#define CBEACON_LIBPQ_SHIM_H

#include <libpq-fe.h>

#endif
