// SPDX-License-Identifier: Apache-2.0
//
// PCRE2 (8-bit code units) for Swift, for PHP-compatible `matches` in BeaconExpression.

#ifndef CBEACON_PCRE2_SHIM_H
#define CBEACON_PCRE2_SHIM_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#endif
