// SPDX-License-Identifier: Apache-2.0

/// `{"key": "/db/main", "value": "10.0.0.5:5432", "version": 7}`; a value that is not valid UTF-8 is
/// written as `"valueBase64"` instead of `"value"`.
extension KeyValue: Codable {
    private enum CodingKeys: String, CodingKey {
        case key
        case value
        case valueBase64
        case version
    }

    /// Decodes an entry from its JSON form.
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when the form is not the one ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let key = try container.decode(String.self, forKey: .key)
        let version = try container.decodeIfPresent(UInt64.self, forKey: .version) ?? 0
        if let text = try container.decodeIfPresent(String.self, forKey: .value) {
            self.init(key: key, string: text, version: version)
        } else {
            let encoded = try container.decode(String.self, forKey: .valueBase64)
            guard let bytes = Base64.decode(encoded) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .valueBase64,
                    in: container,
                    debugDescription: "not base64"
                )
            }
            self.init(key: key, value: bytes, version: version)
        }
    }

    /// Encodes the entry in its JSON form.
    ///
    /// - Parameter encoder: The encoder.
    /// - Throws: The encoder's errors.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.key, forKey: .key)
        if let text = String(validating: self.value, as: UTF8.self) {
            try container.encode(text, forKey: .value)
        } else {
            try container.encode(Base64.encode(self.value), forKey: .valueBase64)
        }
        try container.encode(self.version, forKey: .version)
    }
}
