// SPDX-License-Identifier: Apache-2.0

public import Beacon
public import BeaconContainer
import BeaconExpression
public import Logging

extension ContainerBuilder {
    /// Registers the factory that YAML's `class:` names to define a ``DiscoveryService``.
    ///
    /// The definition's first argument is the discovery URL, the second (optional, may be empty or `null`) the
    /// cache directory in which the last good values persist:
    ///
    /// ```yaml
    /// myapp.dynamic.configuration:
    ///     class: DynamicConfigurationService
    ///     arguments: ['%discovery_service_endpoint%', '%kernel.cache_dir%']
    /// ```
    ///
    /// The container runs the service it builds (`Container.run()`), which drives its watches
    /// and pools, and closes it when the container stops.
    ///
    /// - Parameters:
    ///   - name: The factory name, as `class:` writes it. Default: `DiscoveryService`.
    ///   - configuration: Caching, default locations and credentials; ``DiscoveryService/Configuration/className``
    ///     is set to `name`.
    ///   - source: A source to read instead of the one the URL names, such as a `StaticSource` in tests or a
    ///     client configured in code; the URL argument is then only checked to be present. Default: `nil`, the
    ///     URL's source.
    ///   - logger: The services' logger.
    public mutating func registerDiscoveryService(
        named name: String = "DiscoveryService",
        configuration: DiscoveryService.Configuration = DiscoveryService.Configuration(),
        source: (any DiscoverySource)? = nil,
        logger: Logger = Logger(label: "beacon.discovery", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        var configuration = configuration
        configuration.className = name
        registerFactory(name) { [configuration] arguments in
            let url = try arguments.string(0)
            var directory: String?
            if arguments.count > 1, case let value = try arguments.value(1), !value.isNull {
                directory = try arguments.string(1)
            }
            if let source {
                return DiscoveryService(
                    source: source,
                    cacheDirectory: directory,
                    configuration: configuration,
                    logger: logger
                )
            }
            return try DiscoveryService(
                url: url,
                cacheDirectory: directory,
                configuration: configuration,
                logger: logger
            )
        }
    }
}
