// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression
public import Logging
import Synchronization

/// Collects service definitions, parameters, aliases, named factories and change signals, then
/// ``build()`` validates them and returns an immutable ``Container``.
///
/// ```swift
/// var builder = ContainerBuilder()
/// builder.setParameter("memcached.port", 11211)
/// let config = builder.register("config", as: AppConfig.self, scope: .refreshable) { resolver in
///     AppConfig(port: try resolver.parameter("memcached.port"))
/// }
/// builder.register("pool", as: Pool.self) { resolver in
///     Pool(config: try await resolver.get(config))
/// }
/// let container = try builder.build()
/// ```
///
/// Nothing is constructed by the builder or by `build()`: services are built on their first `get`.
public struct ContainerBuilder: Sendable {
    /// A factory for services defined by name (YAML `class:`): it receives the resolved arguments.
    public typealias Factory = @Sendable (_ arguments: ServiceArguments) async throws -> any Sendable

    enum Body: Sendable {
        case closure(any TypedFactory)
        case factory(name: String, arguments: [Argument])
    }

    struct Definition: Sendable {
        var scope: ServiceScope
        var body: Body
        var location: ContainerError.Location?
        /// The service type of a typed closure registration.
        var typeID: ObjectIdentifier?
    }

    struct NamedFactory: Sendable {
        let call: Factory
    }

    struct Signal: Sendable {
        let id: String
        let consume: @Sendable (_ onElement: @Sendable () -> Void) async -> Void
    }

    /// Identifies a builder's slot layout for the keys it returns (see ``ServiceKey``): a copy of the builder
    /// that adds a slot while the copies still share the token takes a new one, so a key naming slot `n` of one
    /// copy is never taken for slot `n` of the other.
    final class OwnerToken: Sendable {
        private static let next = Atomic<UInt64>(1)

        let value = OwnerToken.next.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    private var ownerToken = OwnerToken()

    /// The value of the owner token: never 0, which keys made from an id carry.
    var owner: UInt64 { ownerToken.value }
    /// Service ids in the order they were first registered (slot order).
    var slotIDs: [String] = []
    var slotOfID: [String: Int] = [:]
    var definitions: [String: Definition] = [:]
    var aliases: [String: (target: String, location: ContainerError.Location?)] = [:]
    /// Every id (services and aliases) in first-registration order, for suggestions.
    var idOrder: [String] = []
    var parameters: [String: (value: ExpressionValue, location: ContainerError.Location?)] = [:]
    var parameterOrder: [String] = []
    /// Wrapped in a struct so the closures keep their own calling convention: a dictionary of bare closures
    /// would store them maximally abstracted, and every call would go through reabstraction thunks.
    var factories: [String: NamedFactory] = [:]
    var signals: [Signal] = []

    /// The language `@=` expressions are parsed with; `build()` registers `service`, `parameter` and `env` on it.
    /// Define constants on it, or register more functions, before building.
    public var expressionLanguage: ExpressionLanguage
    /// The environment `%env()%` and `env()` read; `nil` (the default) reads the process environment.
    public var environment: [String: String]?
    /// The class name the `container` variable reports in expression error messages (default `Container`).
    public var containerClassName = "Container"
    /// Whether `build()` rejects literal `service('id')` and `parameter('name')` calls in expressions that name
    /// nothing defined (default `true`). With `false` they fail when evaluated, as in Symfony's non-compiled
    /// `ContainerBuilder`.
    public var checksExpressionReferences = true
    /// Where the container logs (debug level: services built and invalidated).
    public var logger: Logger
    /// How long an instance replaced by a rebuild stays open for the callers that took it with a plain `get`
    /// before ``Container/run()`` closes it (see ``ClosableService``). Default: 10 seconds.
    public var retiredInstanceGracePeriod: Duration = .seconds(10)

    /// Creates an empty builder.
    ///
    /// - Parameters:
    ///   - expressionLanguage: The language for `@=` expressions (default: a new one).
    ///   - environment: A fixed environment, or `nil` for the process environment.
    ///   - logger: Where the container logs; by default nothing is logged.
    public init(
        expressionLanguage: ExpressionLanguage = ExpressionLanguage(),
        environment: [String: String]? = nil,
        logger: Logger = Logger(label: "beacon.container", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.expressionLanguage = expressionLanguage
        self.environment = environment
        self.logger = logger
    }

    private mutating func noteID(_ id: String) {
        if slotOfID[id] == nil && aliases[id] == nil {
            idOrder.append(id)
        }
    }

    private mutating func define(_ id: String, _ definition: Definition) -> Int {
        noteID(id)
        aliases[id] = nil
        definitions[id] = definition
        if let slot = slotOfID[id] {
            return slot
        }
        if !isKnownUniquelyReferenced(&ownerToken) {
            ownerToken = OwnerToken()
        }
        slotIDs.append(id)
        slotOfID[id] = slotIDs.count - 1
        return slotIDs.count - 1
    }

    /// Registers a service built by an async throwing closure, replacing any service or alias with that id.
    ///
    /// - Parameters:
    ///   - id: The service id.
    ///   - type: The service's type.
    ///   - scope: How long the built service lives (default ``ServiceScope/shared``).
    ///   - factory: Builds the service; it gets other services and parameters through the ``Resolver``, which
    ///     records them as dependencies. It may suspend.
    /// - Returns: A key that `get`s the service without a lookup or a cast at the call site.
    @discardableResult
    public mutating func register<T: Sendable>(
        _ id: String,
        as type: T.Type = T.self,
        scope: ServiceScope = .shared,
        factory: @escaping @Sendable (_ resolver: Resolver) async throws -> T
    ) -> ServiceKey<T> {
        let slot = define(
            id,
            Definition(
                scope: scope,
                body: .closure(TypedClosureFactory(factory)),
                location: nil,
                typeID: ObjectIdentifier(T.self)
            )
        )
        return ServiceKey(id: id, slot: slot, owner: owner)
    }

    /// Registers a service built by a named factory from arguments, as YAML `class:` and `arguments:` do.
    ///
    /// - Parameters:
    ///   - id: The service id.
    ///   - factory: The name of a factory registered with ``registerFactory(_:_:)``.
    ///   - arguments: The arguments, in the YAML syntax.
    ///   - scope: How long the built service lives (default ``ServiceScope/shared``).
    public mutating func register(
        _ id: String,
        factory: String,
        arguments: [Argument] = [],
        scope: ServiceScope = .shared
    ) {
        register(id, factory: factory, arguments: arguments, scope: scope, location: nil)
    }

    mutating func register(
        _ id: String,
        factory: String,
        arguments: [Argument],
        scope: ServiceScope,
        location: ContainerError.Location?
    ) {
        _ = define(
            id,
            Definition(scope: scope, body: .factory(name: factory, arguments: arguments), location: location)
        )
    }

    /// Registers a factory that YAML definitions name in `class:`.
    ///
    /// - Parameters:
    ///   - name: The name used in `class:`, such as `MemcacheSessionHandler`.
    ///   - factory: Builds a service from its resolved arguments.
    public mutating func registerFactory(_ name: String, _ factory: @escaping Factory) {
        factories[name] = NamedFactory(call: factory)
    }

    /// Makes `alias` another name for the service `id`, replacing any service with the id `alias`.
    ///
    /// - Parameters:
    ///   - alias: The new name.
    ///   - id: The service (or alias) it stands for; checked by ``build()``.
    public mutating func alias(_ alias: String, to id: String) {
        self.alias(alias, to: id, location: nil)
    }

    mutating func alias(_ alias: String, to id: String, location: ContainerError.Location?) {
        noteID(alias)
        definitions[alias] = nil
        aliases[alias] = (id, location)
    }

    /// Sets a parameter. Strings may refer to other parameters (`"%host%:%port%"`) and to the environment
    /// (`"%env(int:PORT)%"`); `%%` is a literal `%`.
    ///
    /// - Parameters:
    ///   - name: The parameter name.
    ///   - value: The value.
    public mutating func setParameter(_ name: String, _ value: ExpressionValue) {
        setParameter(name, value, location: nil)
    }

    mutating func setParameter(_ name: String, _ value: ExpressionValue, location: ContainerError.Location?) {
        if parameters[name] == nil {
            parameterOrder.append(name)
        }
        parameters[name] = (value, location)
    }

    /// Invalidates the refreshable service `id` whenever `signal` produces an element, while
    /// ``Container/run()`` runs. This is how a discovery watch plugs in from outside.
    ///
    /// - Parameters:
    ///   - id: A refreshable service; checked by ``build()``.
    ///   - signal: Any asynchronous sequence; its elements are ignored, only their arrival counts. When it ends
    ///     or throws, the service is no longer refreshed by it.
    public mutating func refresh<Changes: AsyncSequence & Sendable>(_ id: String, on signal: Changes) {
        signals.append(
            Signal(id: id) { onElement in
                do {
                    for try await _ in signal {
                        onElement()
                    }
                } catch {
                    // A failed signal simply stops refreshing; `run()` keeps consuming the others.
                }
            }
        )
    }
}
