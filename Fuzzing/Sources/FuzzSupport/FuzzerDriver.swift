// SPDX-License-Identifier: Apache-2.0

import CFuzzerDriver

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs libFuzzer's driver with the process's arguments, fuzzing `target`, and exits with the driver's status: the
/// whole `main.swift` of a fuzzer.
///
/// - Parameter target: The function libFuzzer calls with each input; it returns 0.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}
