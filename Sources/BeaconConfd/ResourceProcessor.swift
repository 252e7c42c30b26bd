// SPDX-License-Identifier: Apache-2.0

import Beacon
import Foundation
public import Logging

/// Renders one resource and puts the result in place, as confd does.
///
/// 1. Render the template; a missing key or a bad value stops here, and nothing on disk changes.
/// 2. Compare with the destination: same content, owner, group and mode means nothing to do.
/// 3. Stage the new file beside the destination (a hidden `.name.XXXXXX`), with its owner and mode.
/// 4. Run `check_cmd` with `{{.src}}` replaced by the staged file; if it fails, delete the staged file: the
///    destination stays as it was.
/// 5. Rename the staged file over the destination (atomic), then run `reload_cmd`.
///
/// With ``Configuration/noop`` it stops after step 2 and reports the lines that would change; with ``Configuration/syncOnly``
/// it skips both commands.
public struct ResourceProcessor: Sendable {
    /// How a resource is processed.
    public struct Configuration: Sendable, Hashable {
        /// Report what would change and write nothing (beacon-confd's `-noop`).
        public var noop: Bool
        /// Replace the destination without running `check_cmd` or `reload_cmd` (`-sync-only`).
        public var syncOnly: Bool

        /// Creates a configuration; the defaults write files and run both commands.
        public init(noop: Bool = false, syncOnly: Bool = false) {
            self.noop = noop
            self.syncOnly = syncOnly
        }
    }

    /// What processing a resource did.
    public enum Outcome: Sendable, Hashable {
        /// The destination already had this content, owner, group and mode.
        case unchanged
        /// The destination was replaced (and the reload command run).
        case updated
        /// ``Configuration/noop``: the destination would be replaced; the lines that would change, as `-12: old` and
        /// `+12: new`, and any change of owner, group or mode.
        case wouldUpdate(changes: [String])
    }

    /// The resource.
    public let resource: TemplateResource
    /// Its parsed template.
    public let template: ConfdTemplate
    /// How it is processed.
    public let configuration: Configuration
    private let logger: Logger

    /// Prepares a resource: reads and parses its template.
    ///
    /// - Parameters:
    ///   - resource: The resource.
    ///   - configuration: How it is processed.
    ///   - logger: Where outcomes and failures are logged.
    /// - Throws: ``ConfdError`` when the template cannot be read or parsed.
    public init(
        resource: TemplateResource,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.confd", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(ConfdError) {
        self.init(
            resource: resource,
            template: try ConfdTemplate(contentsOf: resource.source),
            configuration: configuration,
            logger: logger
        )
    }

    /// Prepares a resource with a template parsed already.
    ///
    /// - Parameters:
    ///   - resource: The resource.
    ///   - template: Its template.
    ///   - configuration: How it is processed.
    ///   - logger: Where outcomes and failures are logged.
    public init(
        resource: TemplateResource,
        template: ConfdTemplate,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "beacon.confd", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.resource = resource
        self.template = template
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "beacon.confd.resource"] = "\(resource.name)"
        logger[metadataKey: "beacon.confd.dest"] = "\(resource.destination)"
        self.logger = logger
    }

    /// Renders the resource from data and brings the destination up to date.
    ///
    /// - Parameter data: The keys and values read for this resource.
    /// - Returns: What was done.
    /// - Throws: ``ConfdError``: from rendering (nothing changed), ``ConfdError/Code/unwritableDestination`` naming the
    ///   path (nothing changed), ``ConfdError/Code/checkFailed`` (the destination stayed as it was), or
    ///   ``ConfdError/Code/reloadFailed`` (the destination was replaced, the reload failed).
    public func process(_ data: TemplateData) async throws(ConfdError) -> Outcome {
        let rendered = try self.template.render(data)
        let destination = DestinationFile(path: self.resource.destination)
        let current = try destination.current()
        let wanted = try self.attributes(keeping: current?.attributes)
        let content = Array(rendered.utf8)
        if let current, current.content == content, current.attributes == wanted {
            self.logger.debug("Destination is in sync")
            return .unchanged
        }
        if self.configuration.noop {
            var changes = LineDiff.describe(old: String(decoding: current?.content ?? [], as: UTF8.self), new: rendered)
            if let old = current?.attributes, old != wanted {
                changes.append("attributes \(Self.describe(old)) -> \(Self.describe(wanted))")
            }
            self.logger.info(
                "Noop: the destination would change",
                metadata: ["beacon.confd.changes": "\(changes.count)"]
            )
            return .wouldUpdate(changes: changes)
        }
        let staged = try destination.stage(content, attributes: wanted)
        if !self.configuration.syncOnly, let check = self.resource.checkCommand {
            let command = ShellCommand(template: check, source: staged, destination: self.resource.destination)
            let result: ShellCommand.Result
            do {
                result = try await command.run()
            } catch {
                DestinationFile.discard(staged)
                throw error
            }
            guard result.succeeded else {
                DestinationFile.discard(staged)
                throw ConfdError(
                    .checkFailed,
                    "`\(command.text)` exited with status \(result.status); the destination was left as it was"
                        + Self.outputSuffix(result.output),
                    file: self.resource.destination
                )
            }
        }
        try destination.replace(with: staged)
        self.logger.info("Destination updated")
        if !self.configuration.syncOnly, let reload = self.resource.reloadCommand {
            let command = ShellCommand(
                template: reload,
                source: self.resource.destination,
                destination: self.resource.destination
            )
            let result = try await command.run()
            guard result.succeeded else {
                throw ConfdError(
                    .reloadFailed,
                    "`\(command.text)` exited with status \(result.status) after the destination was replaced"
                        + Self.outputSuffix(result.output),
                    file: self.resource.destination
                )
            }
            self.logger.debug("Reload command succeeded")
        }
        return .updated
    }

    /// The attributes the destination should have: those the resource names, else the current file's, else the
    /// process's user and group with mode 0644.
    private func attributes(
        keeping current: DestinationFile.Attributes?
    ) throws(ConfdError) -> DestinationFile.Attributes {
        DestinationFile.Attributes(
            owner: try self.resource.owner.map(AccountLookup.user) ?? current?.owner ?? geteuid(),
            group: try self.resource.group.map(AccountLookup.group) ?? current?.group ?? getegid(),
            mode: self.resource.mode ?? current?.mode ?? 0o644
        )
    }

    private static func describe(_ attributes: DestinationFile.Attributes) -> String {
        "\(attributes.owner):\(attributes.group) \(String(attributes.mode, radix: 8))"
    }

    private static func outputSuffix(_ output: String) -> String {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "" : ": " + trimmed
    }
}
