// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression
import BeaconLocks
import Logging

extension Container {
    /// Returns the service in `slot`, constructing it once for concurrent callers.
    ///
    /// - Parameters:
    ///   - slotIndex: The service's slot.
    ///   - path: The services being built by this chain of calls, outermost first; the last one is the requester,
    ///     recorded as a dependent of the service.
    /// - Returns: The boxed service.
    /// - Throws: ``ContainerError`` for a cycle; a factory's error, unchanged.
    @usableFromInline
    func resolve(_ slotIndex: Int, path: ResolutionPath) async throws -> any ServiceBox {
        guard let definition = definitions[slotIndex] else {
            throw ContainerError.serviceNotFound(serviceIDs[slotIndex], candidates: serviceIDs)
        }
        let slot = slots[slotIndex]
        let requester = path.last
        if let requester {
            if let start = path.firstIndex(of: slotIndex) {
                throw Self.cycleError(ids: (path.slots(from: start) + [slotIndex]).map { definitions[$0]?.id ?? "" })
            }
            slot.addDependent(requester)
        }
        if definition.scope == .transient {
            slot.state.withLock { $0.constructions += 1 }
            return try await construct(definition, path: path.appending(slotIndex))
        }
        return try await resolveShared(definition, slot, slotIndex, path: path)
    }

    /// `resolve` of a shared or refreshable service: the built one, the running build's result, or a new build
    /// (inlined: one async frame fewer per service).
    @inline(__always)
    private func resolveShared(
        _ definition: CompiledDefinition,
        _ slot: Slot,
        _ slotIndex: Int,
        path: ResolutionPath
    ) async throws -> any ServiceBox {
        while true {
            switch slot.claim() {
            case .done(let box):
                return box
            case .wait(let generation):
                if let box = try await wait(for: slot, generation: generation) {
                    return box
                }
            case .build(let generation):
                let outcome: Result<any ServiceBox, any Error>
                do {
                    outcome = .success(try await construct(definition, path: path.appending(slotIndex)))
                } catch {
                    outcome = .failure(error)
                }
                complete(definition, slot, generation: generation, outcome: outcome)
                return try outcome.get()
            }
        }
    }

    /// Waits for the build `generation`; `nil` when it is gone without a result this caller can use (retry).
    ///
    /// Not inlined: a continuation has a size known only at run time, which `resolve` would otherwise allocate
    /// from the task on every call, waiting or not.
    @inline(never)
    private func wait(for slot: Slot, generation: UInt64) async throws -> (any ServiceBox)? {
        try await withCheckedThrowingContinuation { (continuation: Slot.Waiter) in
            let immediate: Result<(any ServiceBox)?, any Error>? = slot.state.withLock { state in
                if case .building(let current, var waiters) = state.phase, current == generation {
                    state.phase = .idle
                    waiters.append(continuation)
                    state.phase = .building(generation: current, waiters: waiters)
                    return nil
                }
                if let failure = state.failure, failure.generation == generation {
                    return .failure(failure.error)
                }
                if case .built(let box) = state.phase {
                    return .success(box)
                }
                return .success(nil)
            }
            if let immediate {
                continuation.resume(with: immediate)
            }
        }
    }

    /// Stores a build's outcome in its slot (unless the build was invalidated meanwhile), logs it, and hands it
    /// to the callers that waited for it.
    ///
    /// Synchronous and not inlined: continuations have a size known only at run time, which an async function
    /// would allocate from the task for every build, waiters or not.
    @inline(never)
    private func complete(
        _ definition: CompiledDefinition,
        _ slot: Slot,
        generation: UInt64,
        outcome: Result<any ServiceBox, any Error>
    ) {
        let (waiters, kept): ([Slot.Waiter], Bool) = slot.state.withLock { state in
            guard case .building(let current, let waiters) = state.phase, current == generation else {
                return ([], false)
            }
            switch outcome {
            case .success(let box):
                if state.staleGeneration == generation {
                    state.phase = .idle
                    return (waiters, false)
                }
                slot.store(box, in: &state)
                return (waiters, true)
            case .failure(let error):
                state.phase = .idle
                state.failure = (generation, error)
                return (waiters, false)
            }
        }
        switch outcome {
        case .success(let box):
            logger.debug("service built", metadata: ["container.service": "\(definition.id)"])
            lifetimes.built(box, id: definition.id)
            if !kept {
                // Invalidated while it was being built: handed to its callers, then retired like a replaced one.
                lifetimes.retired(box, id: definition.id)
            }
            for waiter in waiters {
                waiter.resume(returning: box)
            }
        case .failure(let error):
            logger.debug("service construction failed", metadata: ["container.service": "\(definition.id)"])
            for waiter in waiters {
                waiter.resume(throwing: error)
            }
        }
    }

    @inline(__always)
    private func construct(_ definition: CompiledDefinition, path: ResolutionPath) async throws -> any ServiceBox {
        switch definition.body {
        case .closure(let factory):
            return try await factory.make(Resolver(container: self, path: path))
        case .factory(let factory, let plans):
            var arguments: [ResolvedArgument] = []
            arguments.reserveCapacity(plans.count)
            for plan in plans {
                if case .expression(let compiled) = plan {
                    // The usual `@=` argument without the extra async frame of `resolve(_:path:)`.
                    arguments.append(.value(try await evaluate(compiled, path: path)))
                } else {
                    arguments.append(try await resolve(plan, path: path))
                }
            }
            let resolver = Resolver(container: self, path: path)
            return AnyBox(try await factory(ServiceArguments(arguments, resolver: resolver)))
        }
    }

    /// Resolves an argument for the service at the end of `path`.
    func resolve(_ plan: Plan, path: ResolutionPath) async throws -> ResolvedArgument {
        switch plan {
        case .service(let slot):
            return .service(try await resolve(slot, path: path))
        case .optionalService(let slot):
            guard let slot else { return .value(.null) }
            return .service(try await resolve(slot, path: path))
        case .list(let plans):
            var elements: [ResolvedArgument] = []
            for element in plans {
                elements.append(try await resolve(element, path: path))
            }
            return .list(elements)
        case .map(let entries):
            var elements: [(key: ExpressionArrayKey, value: ResolvedArgument)] = []
            for entry in entries {
                elements.append((entry.key, try await resolve(entry.value, path: path)))
            }
            return .map(elements)
        case .expression(let compiled):
            return .value(try await evaluate(compiled, path: path))
        case .value, .env, .parameter, .concat:
            return .value(try value(of: plan))
        }
    }

    /// Evaluates an expression: literal `service()` calls are resolved first; a service named dynamically is
    /// resolved when the evaluation asks for it, and the expression is evaluated again.
    @inline(__always)
    func evaluate(_ compiled: CompiledExpression, path: ResolutionPath) async throws -> ExpressionValue {
        var resolved = ResolvedServices()
        for slot in compiled.services {
            resolved.append(slot, try await resolve(slot, path: path).expressionValue)
        }
        // An input read by a method the expression calls records the service being built.
        let construction = CurrentConstruction.Value(container: self, slot: path.last ?? -1)
        var attempts = 0
        while true {
            let context = ContainerExpressionObject(container: self, resolved: resolved)
            do {
                return try CurrentConstruction.$value.withValue(construction) {
                    try compiled.parsed.evaluate(values: ["container": .object(context)])
                }
            } catch let pending as PendingService {
                attempts += 1
                try Self.checkAttempts(attempts, compiled)
                resolved.append(pending.slot, try await resolve(pending.slot, path: path).expressionValue)
            } catch let request as ContainerLoadRequest {
                attempts += 1
                try Self.checkAttempts(attempts, compiled)
                try await request.load()
            }
        }
    }

    private static func checkAttempts(_ attempts: Int, _ compiled: CompiledExpression) throws(ContainerError) {
        guard attempts <= 64 else {
            throw ContainerError(
                .resolutionFailed,
                "The expression `\(compiled.parsed.expression)` asked for more than 64 services and loads."
            )
        }
    }

    /// The value of a plan with no services: constants, parameters, environment variables, templates.
    func value(of plan: Plan) throws(ContainerError) -> ExpressionValue {
        switch plan {
        case .value(let value):
            return value
        case .env(let reference):
            return try environment.value(reference)
        case .parameter(_, let plan):
            return try value(of: plan)
        case .concat(let parts, let template):
            var bytes: [UInt8] = []
            for part in parts {
                let partValue = try value(of: part)
                switch partValue {
                case .string(let string):
                    bytes += string.bytes
                case .int, .float:
                    bytes += Array(partValue.description.utf8)
                default:
                    var source = "a value"
                    if case .parameter(let name, _) = part {
                        source = "parameter \"\(name)\""
                    } else if case .env(let reference) = part {
                        source = "env var \"\(reference.name)\""
                    }
                    throw ContainerError(
                        .invalidDefinition,
                        "A string value must be composed of strings and/or numbers, but found \(source) "
                            + "of type \(partValue.typeName) inside string value \"\(template)\"."
                    )
                }
            }
            return .string(ExpressionString(bytes: bytes))
        case .list(let plans):
            var values: [ExpressionValue] = []
            for element in plans {
                values.append(try value(of: element))
            }
            return .list(values)
        case .map(let entries):
            var array = ExpressionArray()
            for entry in entries {
                array[entry.key] = try value(of: entry.value)
            }
            return .array(array)
        case .service, .optionalService, .expression:
            throw ContainerError(.invalidDefinition, "A parameter cannot refer to a service.")
        }
    }

    /// A Swift value as expressions see it: objects stay objects, scalars become values, anything else an opaque
    /// object with no members, which ``ServiceArguments/service(_:as:)`` hands back as the original value.
    ///
    /// An `ExpressionObject` method that returns a Swift service (a client or a pool) to a factory's arguments
    /// returns it through this function.
    ///
    /// - Parameter service: The value.
    /// - Returns: Its expression form.
    public static func expressionValue(of service: any Sendable) -> ExpressionValue {
        switch service {
        case let value as ExpressionValue: return value
        case let object as any ExpressionObject: return .object(object)
        case let string as String: return .string(string)
        case let integer as Int: return .int(integer)
        case let double as Double: return .float(double)
        case let flag as Bool: return .bool(flag)
        default: return .object(OpaqueService(service))
        }
    }
}

/// Thrown by `service()` inside an evaluation when the service is not resolved yet; never escapes.
struct PendingService: Error {
    let slot: Int
}

/// A service that is not an `ExpressionObject`, as an expression sees it: an object with no members.
final class OpaqueService: ExpressionObject {
    let service: any Sendable
    let className: String

    init(_ service: any Sendable) {
        self.service = service
        self.className = String(describing: type(of: service))
    }
}
