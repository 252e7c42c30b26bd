// SPDX-License-Identifier: Apache-2.0

import Beacon
import FuzzSupport

/// The file every input is written to; `.json`, so `FileSource` reads it as JSON.
private let file = ScratchFile(suffix: ".json")

/// One fuzz input: the bytes of a JSON discovery file, read by `FileSource` as a service reads it at start.
/// A thrown `BeaconError` (malformed file) is fine; anything else is a finding.
func fuzzJSONFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    file.write(FuzzInput.bytes(data, size))
    _ = try? FileSource(path: file.path, configuration: FileSource.Configuration(format: .json))
    return 0
}
