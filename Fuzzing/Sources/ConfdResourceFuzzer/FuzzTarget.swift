// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import FuzzSupport

/// One fuzz input: the text of a confd template resource file (TOML), read by
/// `TemplateResource(parsing:path:templateDirectory:)` as `init(contentsOf:templateDirectory:)` reads a file.
/// Input that is not valid UTF-8 is skipped: reading the file fails before the parser runs. A thrown
/// `ConfdError` is fine; anything else is a finding.
func fuzzConfdResource(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = FuzzInput.validText(data, size) else { return 0 }
    _ = try? TemplateResource(
        parsing: text,
        path: "/etc/confd/conf.d/fuzz.toml",
        templateDirectory: "/etc/confd/templates"
    )
    return 0
}
