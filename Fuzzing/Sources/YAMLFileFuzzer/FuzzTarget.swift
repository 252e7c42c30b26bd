// SPDX-License-Identifier: Apache-2.0

import Beacon
import FuzzSupport

/// The file every input is written to; `.yaml`, so `FileSource` reads it as YAML.
private let file = ScratchFile(suffix: ".yaml")

/// One fuzz input: the bytes of a YAML discovery file (the default `YAML` trait), read by `FileSource` as a
/// service reads it at start. A thrown `BeaconError` (malformed file) is fine; anything else is a finding.
func fuzzYAMLFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    file.write(FuzzInput.bytes(data, size))
    _ = try? FileSource(path: file.path, configuration: FileSource.Configuration(format: .yaml))
    return 0
}
