// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression
import Synchronization

/// A built service, boxed so a typed `get` can take it out without a dynamic cast.
@usableFromInline
protocol ServiceBox: AnyObject, Sendable {
    /// The service, as an existential.
    var anyValue: any Sendable { get }
    /// What the fast path of a typed `get` hands out: the instance itself when the service is a class
    /// (see ``isReference(_:)``), else the box.
    var fastObject: AnyObject { get }
    /// The service as expressions see it.
    var expressionValue: ExpressionValue { get }
}

/// Whether `T` is a class type, stored as a single reference: then the fast path stores the instance itself.
@inlinable
func isReference<T>(_ type: T.Type) -> Bool {
    T.self is AnyObject.Type && MemoryLayout<T>.size == MemoryLayout<AnyObject>.size
}

/// What a typed registration decides once about its type, so building and using an instance needs no dynamic
/// cast: whether the type is a class (then the fast path hands out the instance itself), and how an instance
/// becomes an expression value when the type is an ``ExpressionObject``.
struct ServiceTraits<T: Sendable>: Sendable {
    let isReference: Bool
    /// Converts an instance (passed as its ``ServiceBox/fastObject``, the instance itself) when the type is an
    /// ``ExpressionObject``; `nil` otherwise: instances are then converted with dynamic casts.
    let expressionConversion: (@Sendable (AnyObject) -> ExpressionValue)?

    init() {
        isReference = BeaconContainer.isReference(T.self)
        if let objectType = T.self as? any ExpressionObject.Type {
            expressionConversion = Self.objectConversion(objectType)
        } else {
            expressionConversion = nil
        }
    }

    private static func objectConversion<Object: ExpressionObject>(
        _ type: Object.Type
    ) -> @Sendable (AnyObject) -> ExpressionValue {
        // The instance is a `T`, and `T` is `Object` (the cast above succeeded on `T.self`).
        { instance in .object(unsafeDowncast(instance, to: Object.self)) }
    }
}

/// Builds the service of a typed registration and boxes it.
///
/// A class rather than a closure wrapping the registered closure: a call costs one async frame fewer.
protocol TypedFactory: Sendable {
    /// Builds and boxes the service.
    func make(_ resolver: Resolver) async throws -> any ServiceBox
}

/// The ``TypedFactory`` of ``ContainerBuilder/register(_:as:scope:factory:)``.
final class TypedClosureFactory<T: Sendable>: TypedFactory {
    private let factory: @Sendable (Resolver) async throws -> T
    private let traits = ServiceTraits<T>()

    init(_ factory: @escaping @Sendable (Resolver) async throws -> T) {
        self.factory = factory
    }

    func make(_ resolver: Resolver) async throws -> any ServiceBox {
        Box(try await factory(resolver), traits: traits)
    }
}

/// The box for a service of a typed registration.
@usableFromInline
final class Box<T: Sendable>: ServiceBox {
    @usableFromInline let value: T
    private let traits: ServiceTraits<T>
    /// The expression form when it takes dynamic casts: computed on first use and kept.
    private let converted = Mutex<ExpressionValue?>(nil)

    init(_ value: T, traits: ServiceTraits<T>) {
        self.value = value
        self.traits = traits
    }

    @usableFromInline var anyValue: any Sendable { value }

    @usableFromInline var expressionValue: ExpressionValue {
        if let conversion = traits.expressionConversion {
            return conversion(fastObject)
        }
        return converted.withLock { converted in
            if let converted {
                return converted
            }
            let expression = Container.expressionValue(of: value)
            converted = expression
            return expression
        }
    }

    @usableFromInline var fastObject: AnyObject {
        traits.isReference ? unsafeBitCast(value, to: AnyObject.self) : self
    }
}

/// The box for a service built by a named factory, whose type is known only at run time.
@usableFromInline
final class AnyBox: ServiceBox {
    @usableFromInline let anyValue: any Sendable
    /// The expression form: computed on first use (dynamic casts) and kept.
    private let converted = Mutex<ExpressionValue?>(nil)

    init(_ value: any Sendable) {
        self.anyValue = value
    }

    @usableFromInline var expressionValue: ExpressionValue {
        converted.withLock { converted in
            if let converted {
                return converted
            }
            let expression = Container.expressionValue(of: anyValue)
            converted = expression
            return expression
        }
    }

    @usableFromInline var fastObject: AnyObject { self }
}

extension ServiceBox {
    /// The service as a `T`: inlined, so the casts are specialised for `T`.
    @inlinable
    func take<T: Sendable>(_ type: T.Type, id: String) throws(ContainerError) -> T {
        if let box = self as? Box<T> {
            return box.value
        }
        if let value = anyValue as? T {
            return value
        }
        throw typeMismatch(id: id, requested: T.self)
    }

    /// The error of a `get` that asked for another type than the service's.
    @usableFromInline
    func typeMismatch(id: String, requested: Any.Type) -> ContainerError {
        ContainerError(
            code: .typeMismatch,
            message: "The service \"\(id)\" is a \(Swift.type(of: anyValue)), not a \(requested)."
        )
    }
}
