// SPDX-License-Identifier: Apache-2.0

/// Thrown by an expression object's method when it must do asynchronous work before it can answer.
///
/// Expressions are evaluated synchronously, but some objects answer from data that must first be fetched (a
/// value from a discovery backend, a client whose first server list must be read). Such a method throws a
/// load request instead; the container awaits ``load()`` and then evaluates the expression again from the start,
/// and this time the method answers from what the load stored. Any work the expression did before the method
/// was called is done again, so an expression should call loading methods before other side effects, or have
/// none.
///
/// ```swift
/// func callMethod(named name: String, arguments: [ExpressionValue]) throws -> ExpressionValue {
///     if let value = cache.value(for: key) { return .string(value) }
///     throw ContainerLoadRequest("reading \(key)") { try await cache.load(key) }
/// }
/// ```
///
/// One evaluation may ask for at most 64 loads and services together; more is an error naming the expression.
/// Outside a container evaluation the request propagates to the caller of `evaluate` like any other error.
public struct ContainerLoadRequest: Error, Sendable, CustomStringConvertible {
    /// What is being loaded, for errors and logs.
    public let description: String
    private let work: @Sendable () async throws -> Void

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - description: What is being loaded, for errors and logs. Never include a secret.
    ///   - load: The work to await before the expression is evaluated again.
    public init(_ description: String, load: @escaping @Sendable () async throws -> Void) {
        self.description = description
        self.work = load
    }

    /// Does the work.
    ///
    /// - Throws: What the work throws; the evaluation then fails with that error.
    public func load() async throws {
        try await work()
    }
}
