// SPDX-License-Identifier: Apache-2.0

/// The parser behind ``Endpoint/init(parsing:defaultPort:)``.
struct EndpointParser {
    let text: String
    let defaultPort: Int?

    private func failure(_ message: String) -> BeaconError {
        BeaconError(.invalidEndpoint, message, text: self.text)
    }

    mutating func parse() throws(BeaconError) -> Endpoint {
        if self.text.isEmpty { throw self.failure("the text is empty") }
        if self.text.contains(where: { $0.isWhitespace }) {
            throw self.failure("it contains white space")
        }

        var address = Substring(self.text)
        var weight: Int?
        if let question = address.firstIndex(of: "?") {
            weight = try self.parseOptions(address[address.index(after: question)...])
            address = address[..<question]
        }

        let host: Substring
        let portText: Substring?
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else {
                throw self.failure("the IPv6 address has no closing bracket")
            }
            host = address[address.index(after: address.startIndex)..<close]
            let rest = address[address.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.hasPrefix(":") {
                portText = rest.dropFirst()
            } else {
                throw self.failure("expected ':' and a port after the closing bracket")
            }
            try self.validateIPv6(host)
        } else if let colon = address.lastIndex(of: ":") {
            host = address[..<colon]
            portText = address[address.index(after: colon)...]
            if host.contains(":") {
                throw self.failure("an IPv6 address must be written in brackets, as [address]:port")
            }
        } else {
            host = address
            portText = nil
        }

        if host.isEmpty { throw self.failure("the host is missing") }
        if !host.contains(":") { try self.validateHostName(host) }

        let port: Int
        if let portText {
            port = try self.parsePort(portText)
        } else if let defaultPort = self.defaultPort {
            port = defaultPort
        } else {
            throw self.failure("the port is missing (expected host:port)")
        }
        return Endpoint(host: String(host), port: port, weight: weight)
    }

    private func parsePort(_ text: Substring) throws(BeaconError) -> Int {
        if text.isEmpty { throw self.failure("the port is missing after ':'") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw self.failure("port \(BeaconError.quoted(String(text))) is not a number")
        }
        guard text.count <= 5, let port = Int(text), (1...65535).contains(port) else {
            throw self.failure("port \(text) is out of range (1 to 65535)")
        }
        return port
    }

    private func parseOptions(_ text: Substring) throws(BeaconError) -> Int {
        let prefix = "weight="
        guard text.hasPrefix(prefix) else {
            throw self.failure("unknown option \(BeaconError.quoted(String(text))) (only weight=N is supported)")
        }
        let value = text.dropFirst(prefix.count)
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }), value.count <= 9,
            let weight = Int(value)
        else {
            throw self.failure("weight \(BeaconError.quoted(String(value))) is not a whole number")
        }
        return weight
    }

    private func validateHostName(_ host: Substring) throws(BeaconError) {
        if host.utf8.count > 253 { throw self.failure("the host name is longer than 253 characters") }
        for character in host {
            let allowed = character.isASCII && (character.isLetter || character.isNumber || "-._".contains(character))
            guard allowed else {
                throw self.failure("the host contains \(BeaconError.quoted(String(character))), which is not allowed")
            }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) {
            throw self.failure("the host has an empty label (two dots, or a dot at either end)")
        }
        if labels.contains(where: { $0.utf8.count > 63 }) {
            throw self.failure("a label of the host is longer than 63 characters")
        }
        if labels.count == 4, labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            guard labels.allSatisfy({ $0.count <= 3 && Int($0)! <= 255 }) else {
                throw self.failure("IPv4 address \(host) has a part above 255")
            }
        }
    }

    private func validateIPv6(_ host: Substring) throws(BeaconError) {
        if host.isEmpty { throw self.failure("the IPv6 address in brackets is empty") }
        let address = host.split(separator: "%", maxSplits: 1).first ?? host
        let valid =
            address.contains(":")
            && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            && address.filter { $0 == ":" }.count <= 7
        guard valid else {
            throw self.failure("\(BeaconError.quoted(String(host))) is not an IPv6 address")
        }
    }
}
