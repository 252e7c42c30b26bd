// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression
import BeaconLocks
import Logging
import Synchronization

/// Services built lazily from immutable definitions; thread-safe.
///
/// Made by ``ContainerBuilder/build()``. A service is constructed on its first `get`; concurrent first `get`s
/// construct it once and all receive it (or all receive the error; a failed construction is not kept, the next
/// `get` tries again). Shared services are then returned from a slot; transient ones are built on every `get`;
/// refreshable ones are rebuilt on the next `get` after ``invalidate(_:)`` or a change signal, together with
/// every service that was built from them. Callers that already hold an old instance keep it.
public final class Container: Sendable {
    enum Body: Sendable {
        case closure(any TypedFactory)
        case factory(ContainerBuilder.Factory, [Plan])
    }

    /// A class, so resolution passes one reference around instead of copying the fields.
    final class CompiledDefinition: Sendable {
        let id: String
        let scope: ServiceScope
        let body: Body
        /// Slots referred to statically, for the cycle check.
        let references: [Int]
        /// The service type of a typed closure registration.
        let typeID: ObjectIdentifier?

        init(id: String, scope: ServiceScope, body: Body, references: [Int], typeID: ObjectIdentifier?) {
            self.id = id
            self.scope = scope
            self.body = body
            self.references = references
            self.typeID = typeID
        }
    }

    @usableFromInline let owner: UInt64
    let definitions: [CompiledDefinition?]
    let slots: [Slot]
    @usableFromInline let index: IDTable
    /// Every id and alias, `service_container` first, for suggestions in errors.
    let serviceIDs: [String]
    let parameters: [String: Plan]
    let parameterOrder: [String]
    let environment: Environment
    let className: String
    let signals: [(slot: Int, consume: @Sendable (_ onElement: @Sendable () -> Void) async -> Void)]
    /// Runs the built services that are `Service`s and closes replaced instances (see ``run()``).
    let lifetimes: InstanceLifetimes
    /// Set by the first ``run()``.
    let isRunning = Atomic<Bool>(false)
    let logger: Logger

    init(
        owner: UInt64,
        definitions: [CompiledDefinition?],
        index: [String: Int],
        serviceIDs: [String],
        parameters: [String: Plan],
        parameterOrder: [String],
        environment: Environment,
        className: String,
        signals: [(slot: Int, consume: @Sendable (_ onElement: @Sendable () -> Void) async -> Void)],
        retiredInstanceGracePeriod: Duration,
        logger: Logger
    ) {
        self.owner = owner
        self.definitions = definitions
        self.slots = definitions.map { Slot(typeID: $0?.typeID) }
        self.index = IDTable(index)
        self.serviceIDs = serviceIDs
        self.parameters = parameters
        self.parameterOrder = parameterOrder
        self.environment = environment
        self.className = className
        self.signals = signals
        self.lifetimes = InstanceLifetimes(gracePeriod: retiredInstanceGracePeriod)
        self.logger = logger
    }

    /// Returns the service a typed key names, building it on first use.
    ///
    /// - Parameter key: A key from ``ContainerBuilder/register(_:as:scope:factory:)`` (read from its slot) or
    ///   made from an id.
    /// - Returns: The service.
    /// - Throws: ``ContainerError`` (unknown id, wrong type, a cycle found while resolving), or the error of a
    ///   factory or expression, unchanged.
    @inlinable
    @inline(__always)
    public func get<T: Sendable>(_ key: ServiceKey<T>) async throws -> T {
        // A key of this container's builder names its slot; the owner check also rules out the `-1` of a key
        // made from an id (owner 0, which no builder has).
        if key.owner == owner, let object = builtObject(key.slot, ObjectIdentifier(T.self)) {
            return Self.unbox(object, as: T.self)
        }
        return try await resolveService(key, as: T.self)
    }

    /// Returns the service (or alias) `id` as a `T`, building it on first use.
    ///
    /// - Parameters:
    ///   - id: The service id or alias.
    ///   - type: The type to return.
    /// - Returns: The service.
    /// - Throws: ``ContainerError`` (unknown id, wrong type, a cycle found while resolving), or the error of a
    ///   factory or expression, unchanged.
    @inlinable
    @inline(__always)
    public func get<T: Sendable>(_ id: String, as type: T.Type = T.self) async throws -> T {
        guard let slot = index.slot(of: id) else {
            throw serviceNotFound(id)
        }
        if let object = builtObject(slot, ObjectIdentifier(T.self)) {
            return Self.unbox(object, as: T.self)
        }
        return try await resolveService(slot: slot, id: id)
    }

    /// The fast object of the service in `slot` when it is built and was registered with the type `typeID`, read
    /// under the slot's lock; `nil` otherwise (then `get` takes the slow path).
    ///
    /// Not inlinable: the slots and their locks stay out of the module's public interface.
    @usableFromInline
    func builtObject(_ slot: Int, _ typeID: ObjectIdentifier) -> AnyObject? {
        guard slots.indices.contains(slot), slots[slot].typeID == typeID else { return nil }
        return slots[slot].lockedFastObject
    }

    /// Takes a `T` out of a fast object of a slot whose registered type is `T`: the instance itself for a class,
    /// else its `Box<T>` (see `ServiceBox.fastObject`).
    @inlinable
    @inline(__always)
    static func unbox<T: Sendable>(_ object: AnyObject, as type: T.Type) -> T {
        if isReference(T.self) {
            return unsafeBitCast(object, to: T.self)
        }
        return unsafeDowncast(object, to: Box<T>.self).value
    }

    /// `get(key)` when the slot has no built service of the type `T`: not built yet, or another type.
    /// Inlined, so it is specialised for `T` and the only async call is the non-generic `resolve(_:)`.
    @inlinable
    func resolveService<T: Sendable>(_ key: ServiceKey<T>, as type: T.Type) async throws -> T {
        try await resolveService(slot: try slot(of: key.id, keySlot: key.slot, keyOwner: key.owner), id: key.id)
    }

    /// The error of a `get` of an id that names nothing.
    @usableFromInline
    func serviceNotFound(_ id: String) -> ContainerError {
        ContainerError.serviceNotFound(id, candidates: serviceIDs)
    }

    /// `get` of the service in `slot` when it has no built service of the type `T`.
    @inlinable
    func resolveService<T: Sendable>(slot: Int, id: String) async throws -> T {
        if let object = builtObject(slot, ObjectIdentifier(T.self)) {
            return Self.unbox(object, as: T.self)
        }
        return try Self.take(try await resolve(slot, path: ResolutionPath()), as: T.self, id: id)
    }

    /// The slot a key or id names: the key's own slot when it is one of this container's, else the id's.
    @usableFromInline
    func slot(of id: String, keySlot: Int, keyOwner: UInt64) throws(ContainerError) -> Int {
        if keyOwner == owner, keySlot >= 0, keySlot < slots.count, definitions[keySlot] != nil {
            return keySlot
        }
        guard let slot = index.slot(of: id) else {
            throw ContainerError.serviceNotFound(id, candidates: serviceIDs)
        }
        return slot
    }

    /// Whether a service or alias `id` is defined.
    ///
    /// - Parameter id: The id.
    /// - Returns: `true` when `get` would find it.
    public func has(_ id: String) -> Bool {
        index.slot(of: id) != nil
    }

    /// The value of a parameter, with `%env()%` parts read now.
    ///
    /// - Parameter name: The parameter name.
    /// - Returns: The value.
    /// - Throws: ``ContainerError`` for an unknown parameter or an environment variable that is missing or does
    ///   not convert.
    public func parameter(_ name: String) throws(ContainerError) -> ExpressionValue {
        guard let plan = parameters[name] else {
            throw parameterNotFound(name)
        }
        return try value(of: plan)
    }

    /// Whether a parameter is defined.
    ///
    /// - Parameter name: The parameter name.
    /// - Returns: `true` when ``parameter(_:)`` would find it.
    public func hasParameter(_ name: String) -> Bool {
        parameters[name] != nil
    }

    /// How many times the service `id` has been constructed so far; for the package's tests.
    ///
    /// - Parameter id: The service id or alias.
    /// - Returns: The count, 0 for an unknown id.
    package func constructionCount(of id: String) -> Int {
        guard let slot = index.slot(of: id) else { return 0 }
        return slots[slot].state.withLock { $0.constructions }
    }

    /// How many callers are waiting for the running construction of `id` (tests).
    func waiterCount(of id: String) -> Int {
        guard let slot = index.slot(of: id) else { return 0 }
        return slots[slot].state.withLock { state in
            if case .building(_, let waiters) = state.phase {
                return waiters.count
            }
            return 0
        }
    }

    /// Makes the refreshable service `id`, and every service built from it, be rebuilt on their next `get`.
    ///
    /// Services are invalidated along the dependencies actually resolved when they were built, including those
    /// resolved inside expressions. A build that is running is not kept when it completes. Callers that hold
    /// an instance keep it.
    ///
    /// - Parameter id: A refreshable service or an alias of one.
    /// - Throws: ``ContainerError`` when `id` is unknown or not refreshable.
    public func invalidate(_ id: String) throws(ContainerError) {
        guard let slot = index.slot(of: id) else {
            throw ContainerError.serviceNotFound(id, candidates: serviceIDs)
        }
        guard definitions[slot]?.scope == .refreshable else {
            throw ContainerError(
                .notRefreshable,
                "The service \"\(id)\" is not refreshable; only refreshable services can be invalidated."
            )
        }
        invalidate(slot: slot)
    }

    func invalidate(slot: Int) {
        var pending = [slot]
        var seen = Set<Int>()
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            let id = definitions[next]?.id ?? ""
            logger.debug("service invalidated", metadata: ["container.service": "\(id)"])
            let (dependents, replaced) = slots[next].invalidate()
            if let replaced {
                lifetimes.retired(replaced, id: id)
            }
            pending.append(contentsOf: dependents.elements)
        }
    }

    static func cycleError(ids: [String]) -> ContainerError {
        ContainerError(
            .circularReference,
            "Circular reference detected for service \"\(ids.first ?? "")\", path: "
                + "\"\(ids.joined(separator: " -> "))\"."
        )
    }

    func parameterNotFound(_ name: String) -> ContainerError {
        var nested: String?
        if name.contains(".") {
            var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            parts.removeLast()
            while !parts.isEmpty {
                let candidate = parts.joined(separator: ".")
                if let plan = parameters[candidate] {
                    if case .array? = try? value(of: plan) {
                        nested = candidate
                    }
                    break
                }
                parts.removeLast()
            }
        }
        return ContainerError.parameterNotFound(name, candidates: parameterOrder, nestedArray: nested)
    }
}
