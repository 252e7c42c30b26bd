// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer's driver entry point, so the Swift executable can provide main() itself (SwiftPM renames an
// executable's main, which hides libFuzzer's own).

#ifndef CFUZZER_DRIVER_H
#define CFUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *_Nonnull argc, char *_Nullable *_Nonnull *_Nonnull argv,
                        int (*_Nonnull callback)(const uint8_t *_Nullable data, size_t size));

#endif
