// SPDX-License-Identifier: Apache-2.0
//
// Declarations only: LLVMFuzzerRunDriver comes from libFuzzer (-sanitize=fuzzer).

#include "CFuzzerDriver.h"
