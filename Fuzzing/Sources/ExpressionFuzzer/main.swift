// SPDX-License-Identifier: Apache-2.0

import FuzzSupport

runFuzzer { data, size in fuzzExpression(data, size) }
