// SPDX-License-Identifier: Apache-2.0

import BeaconLocks

/// A value from outside the container that services can be built from, such as a key read from discovery.
///
/// An integration makes one input per outside value it serves. When a construction reads the value, the
/// integration calls ``recordRead()``; when the value changes, it calls ``changed()``. Every service whose
/// construction read the input since the last change, and every service built from those, is then rebuilt on its
/// next `get`. The definition needs no `refreshable` flag: the container infers it from what the build read.
///
/// ```swift
/// let host = ContainerInput("/db/host")
/// builder.register("database", as: Database.self) { resolver in
///     try await resolver.recordingInputs {
///         host.recordRead()                    // before reading, so that no change can slip in between
///         return Database(host: current.value)
///     }
/// }
/// // later, when the outside value changes:
/// current.set("10.0.0.2")
/// host.changed()                               // "database" is rebuilt on its next get
/// ```
///
/// Record the read before reading the value: a change that lands after ``recordRead()`` invalidates the
/// service (or, while its construction runs, keeps its result from being stored), and a change that landed
/// before it is already in the value read.
public final class ContainerInput: Sendable, CustomStringConvertible {
    /// A service that read the input: its container (not kept alive by the input) and its slot.
    private struct Reader {
        weak var container: Container?
        let slot: Int
    }

    private let readers = Lock<[Reader]>([])

    /// What the input is, for logs: a key or a prefix, for example.
    public let name: String

    /// Creates an input.
    ///
    /// - Parameter name: What the input is, for logs.
    public init(_ name: String) {
        self.name = name
    }

    /// Records that the construction reading the input now depends on it.
    ///
    /// That is the service whose definition holds the expression being evaluated in this task, or, in a code
    /// factory, the service whose ``Resolver/recordingInputs(_:)`` body runs in this task. Anywhere else (a `get`
    /// from application code, say) it does nothing.
    ///
    /// - Returns: `true` when a construction was running and now depends on the input.
    @discardableResult
    public func recordRead() -> Bool {
        guard let construction = CurrentConstruction.value, let container = construction.container,
            construction.slot >= 0
        else {
            return false
        }
        let slot = construction.slot
        readers.withLock { readers in
            readers.removeAll { $0.container == nil }
            if !readers.contains(where: { $0.container === container && $0.slot == slot }) {
                readers.append(Reader(container: container, slot: slot))
            }
        }
        return true
    }

    /// Invalidates every service that read the input since the last change, and every service built from them.
    ///
    /// The services are rebuilt on their next `get`; callers that hold an old instance keep it (see
    /// ``Container/withService(_:as:_:)`` and ``ClosableService`` for when it is closed).
    public func changed() {
        let readers = self.readers.withLock { readers in
            defer { readers = [] }
            return readers
        }
        for reader in readers {
            reader.container?.invalidate(slot: reader.slot)
        }
    }

    /// How many services read the input since its last change.
    public var readerCount: Int {
        readers.withLock { readers in readers.count(where: { $0.container != nil }) }
    }

    /// The input's name.
    public var description: String { name }
}

/// The construction running in the current task, so that a ``ContainerInput`` read by its code knows which service
/// to record: bound by `Resolver.recordingInputs` in a code factory, and by the container around the evaluation
/// of an expression in a definition.
enum CurrentConstruction {
    struct Value: Sendable {
        weak var container: Container?
        let slot: Int
    }

    @TaskLocal static var value: Value?
}
