// SPDX-License-Identifier: Apache-2.0

import BeaconExpression
import Logging
import Synchronization

extension Container {
    private enum Decision {
        case done(any ServiceBox)
        case wait(UInt64)
        case build(UInt64)
    }

    /// Returns the service in `slot`, constructing it once for concurrent callers.
    ///
    /// - Parameters:
    ///   - slot: The service's slot.
    ///   - path: The services being built by this chain of calls, outermost first; the last one is the requester,
    ///     recorded as a dependent of `slot`.
    /// - Returns: The boxed service.
    /// - Throws: ``ContainerError`` for a cycle; a factory's error, unchanged.
    func resolve(_ slot: Int, path: ResolutionPath) async throws -> any ServiceBox {
        guard let definition = definitions[slot] else {
            throw ContainerError.serviceNotFound(serviceIDs[slot], candidates: serviceIDs)
        }
        let requester = path.last
        if let requester {
            if let start = path.firstIndex(of: slot) {
                throw Self.cycleError(ids: (path.slots(from: start) + [slot]).map { definitions[$0]?.id ?? "" })
            }
            slots[slot].addDependent(requester)
        }
        let box = try await resolveRecorded(slot, definition, path: path)
        if let requester, slots[slot].mayBeInvalidated.load(ordering: .relaxed) {
            // Built from something that can be invalidated: the requester can be too, so it is not published.
            slots[requester].mayBeInvalidated.store(true, ordering: .relaxed)
        }
        return box
    }

    /// `resolve` once the requester is recorded as a dependent (inlined: one async frame fewer per service).
    @inline(__always)
    private func resolveRecorded(
        _ slot: Int,
        _ definition: CompiledDefinition,
        path: ResolutionPath
    ) async throws -> any ServiceBox {
        if definition.scope == .transient {
            slots[slot].state.withLock { $0.constructions += 1 }
            return try await construct(definition, path: path.appending(slot))
        }
        let state = slots[slot]
        while true {
            let decision: Decision = state.state.withLock { state in
                switch state.phase {
                case .built(let box):
                    return .done(box)
                case .building(let generation, _):
                    return .wait(generation)
                case .idle:
                    state.generation += 1
                    state.constructions += 1
                    state.phase = .building(generation: state.generation, waiters: [])
                    return .build(state.generation)
                }
            }
            switch decision {
            case .done(let box):
                return box
            case .wait(let generation):
                if let box = try await wait(for: state, generation: generation) {
                    return box
                }
            case .build(let generation):
                return try await build(definition, in: state, generation: generation, path: path.appending(slot))
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

    @inline(__always)
    private func build(
        _ definition: CompiledDefinition,
        in slot: Slot,
        generation: UInt64,
        path: ResolutionPath
    ) async throws -> any ServiceBox {
        let outcome: Result<any ServiceBox, any Error>
        do {
            outcome = .success(try await construct(definition, path: path))
        } catch {
            outcome = .failure(error)
        }
        let waiters: [Slot.Waiter] = slot.state.withLock { state in
            guard case .building(let current, let waiters) = state.phase, current == generation else { return [] }
            switch outcome {
            case .success(let box):
                if state.staleGeneration == generation {
                    state.phase = .idle
                } else {
                    slot.store(box, shared: definition.scope == .shared, in: &state)
                }
            case .failure(let error):
                state.phase = .idle
                state.failure = (generation, error)
            }
            return waiters
        }
        finish(definition, outcome: outcome, waiters: waiters)
        return try outcome.get()
    }

    /// Logs a completed build and hands its outcome to the callers that waited for it.
    ///
    /// Synchronous and not inlined: continuations have a size known only at run time, which an async function
    /// would allocate from the task for every build, waiters or not.
    @inline(never)
    private func finish(
        _ definition: CompiledDefinition,
        outcome: Result<any ServiceBox, any Error>,
        waiters: [Slot.Waiter]
    ) {
        switch outcome {
        case .success(let box):
            logger.debug("service built", metadata: ["container.service": "\(definition.id)"])
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
        case .closure(let closure):
            return try await closure(Resolver(container: self, path: path))
        case .factory(let factory, let plans):
            var arguments: [ResolvedArgument] = []
            arguments.reserveCapacity(plans.count)
            for plan in plans {
                arguments.append(try await resolve(plan, path: path))
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
    func evaluate(_ compiled: CompiledExpression, path: ResolutionPath) async throws -> ExpressionValue {
        var resolved = ResolvedServices()
        for slot in compiled.services {
            resolved.append(slot, try await resolve(slot, path: path).expressionValue)
        }
        var attempts = 0
        while true {
            let context = ContainerExpressionObject(container: self, resolved: resolved)
            do {
                return try compiled.parsed.evaluate(values: ["container": .object(context)])
            } catch let pending as PendingService {
                attempts += 1
                guard attempts <= 64 else {
                    throw ContainerError(
                        code: .resolutionFailed,
                        message: "The expression `\(compiled.parsed.expression)` asked for more than 64 services."
                    )
                }
                resolved.append(pending.slot, try await resolve(pending.slot, path: path).expressionValue)
            }
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
                        code: .invalidDefinition,
                        message: "A string value must be composed of strings and/or numbers, but found \(source) "
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
            throw ContainerError(code: .invalidDefinition, message: "A parameter cannot refer to a service.")
        }
    }

    /// A service as expressions see it: objects stay objects, scalars become values, anything else an opaque
    /// object with no properties.
    static func expressionValue(of service: any Sendable) -> ExpressionValue {
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

/// A service that is not an ``ExpressionObject``, as an expression sees it: an object with no members.
final class OpaqueService: ExpressionObject {
    let service: any Sendable
    let className: String

    init(_ service: any Sendable) {
        self.service = service
        self.className = String(describing: type(of: service))
    }
}
