// SPDX-License-Identifier: Apache-2.0

public import BeaconExpression
import BeaconLocks

/// A built service, boxed so a typed `get` can take it out without a dynamic cast.
@usableFromInline
protocol ServiceBox: AnyObject, Sendable {
    /// The service, as an existential.
    var anyValue: any Sendable { get }
    /// What the fast path of a typed `get` hands out: the instance itself when the service is a class
    /// (see ``isReference(_:)``), else the box (a `Box<T>`).
    var fastObject: AnyObject { get }
    /// The registered type of a typed registration's service: a `get` of that type takes ``fastObject``
    /// without a cast. `nil` for services of named factories.
    var typeID: ObjectIdentifier? { get }
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
        let value = try await factory(resolver)
        guard traits.isReference else {
            return Box(value)
        }
        // A class instance goes in the non-generic box: no generic metadata to look up for every build.
        // `T` is a `Sendable` class (`isReference`), so its instance is also an `AnyObject & Sendable`, a single
        // reference as `AnyObject` is (`Sendable` adds no witness table).
        return ObjectBox(
            value,
            instance: unsafeBitCast(value, to: (any AnyObject & Sendable).self),
            typeID: ObjectIdentifier(T.self),
            expressionConversion: traits.expressionConversion
        )
    }
}

/// The box for a class instance of a typed registration: ``fastObject`` is the instance.
@usableFromInline
final class ObjectBox: ServiceBox {
    @usableFromInline let anyValue: any Sendable
    /// The instance (a `Sendable` class instance, as the registered type is).
    private let instance: any AnyObject & Sendable
    @usableFromInline let typeID: ObjectIdentifier?
    private let expressionConversion: (@Sendable (AnyObject) -> ExpressionValue)?
    /// The expression form when it takes dynamic casts: computed on first use and kept.
    private let converted = ConvertedExpressionValue()

    init(
        _ value: any Sendable,
        instance: any AnyObject & Sendable,
        typeID: ObjectIdentifier,
        expressionConversion: (@Sendable (AnyObject) -> ExpressionValue)?
    ) {
        self.anyValue = value
        self.instance = instance
        self.typeID = typeID
        self.expressionConversion = expressionConversion
    }

    @usableFromInline var fastObject: AnyObject { instance }

    @usableFromInline var expressionValue: ExpressionValue {
        if let expressionConversion {
            return expressionConversion(fastObject)
        }
        return converted.value { Container.expressionValue(of: anyValue) }
    }
}

/// The box for a value (not a class instance) of a typed registration: ``fastObject`` is the box itself.
@usableFromInline
final class Box<T: Sendable>: ServiceBox {
    @usableFromInline let value: T
    /// The expression form: computed on first use (dynamic casts) and kept.
    private let converted = ConvertedExpressionValue()

    init(_ value: T) {
        self.value = value
    }

    @usableFromInline var anyValue: any Sendable { value }

    @usableFromInline var fastObject: AnyObject { self }

    @usableFromInline var typeID: ObjectIdentifier? { ObjectIdentifier(T.self) }

    @usableFromInline var expressionValue: ExpressionValue {
        converted.value { Container.expressionValue(of: value) }
    }
}

/// The box for a service built by a named factory, whose type is known only at run time.
@usableFromInline
final class AnyBox: ServiceBox {
    @usableFromInline let anyValue: any Sendable
    /// The expression form: computed on first use (dynamic casts) and kept.
    private let converted = ConvertedExpressionValue()

    init(_ value: any Sendable) {
        self.anyValue = value
    }

    @usableFromInline var fastObject: AnyObject { self }

    @usableFromInline var typeID: ObjectIdentifier? { nil }

    @usableFromInline var expressionValue: ExpressionValue {
        converted.value { Container.expressionValue(of: anyValue) }
    }
}

/// A service's expression form, computed by dynamic casts on first use and kept: the boxes' shared memo.
final class ConvertedExpressionValue: Sendable {
    private let converted = Lock<ExpressionValue?>(nil)

    /// The kept value, or the one `convert` makes (and that is kept) on the first call.
    func value(_ convert: () -> ExpressionValue) -> ExpressionValue {
        converted.withLock { converted in
            if let converted {
                return converted
            }
            let expression = convert()
            converted = expression
            return expression
        }
    }
}

extension Container {
    /// The service in `box` as a `T`: a function of the container, not of the box protocol, so that inlined it
    /// is specialised for `T` alone; no cast when `T` is the registered type.
    @inlinable
    static func take<T: Sendable>(_ box: any ServiceBox, as type: T.Type, id: String) throws(ContainerError) -> T {
        if box.typeID == ObjectIdentifier(T.self) {
            return unbox(box.fastObject, as: T.self)
        }
        if let value = box.anyValue as? T {
            return value
        }
        throw typeMismatch(box, id: id, requested: T.self)
    }

    /// The error of a `get` that asked for another type than the service's.
    @usableFromInline
    static func typeMismatch(_ box: any ServiceBox, id: String, requested: Any.Type) -> ContainerError {
        ContainerError(
            .typeMismatch,
            "The service \"\(id)\" is a \(Swift.type(of: box.anyValue)), not a \(requested)."
        )
    }
}
