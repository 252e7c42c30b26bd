// SPDX-License-Identifier: Apache-2.0

package import ArgumentParser

extension NameSpecification {
    /// A flag named as confd names its flags, with one dash (`-node`), and also with two (`--node`).
    ///
    /// - Parameter name: The flag's name without dashes, such as `node` or `client-ca-keys`.
    /// - Returns: Both spellings.
    package static func confd(_ name: String) -> NameSpecification {
        [.customLong(name, withSingleDash: true), .customLong(name)]
    }
}
