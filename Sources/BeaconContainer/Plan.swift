// SPDX-License-Identifier: Apache-2.0

import BeaconExpression

/// An argument or parameter value compiled at `build()`: references are slots, expressions are parsed.
indirect enum Plan: Sendable {
    /// A constant.
    case value(ExpressionValue)
    /// A service, by slot.
    case service(Int)
    /// A service that may be missing: `nil` reads as `null`.
    case optionalService(Int?)
    /// An environment variable through processors, read at every resolution.
    case env(EnvironmentReference)
    /// A parameter name (kept to name it in errors) and its compiled value.
    case parameter(String, Plan)
    /// A string assembled from parts (`"%host%:%port%"`); `template` is the source text, for error messages.
    case concat([Plan], template: String)
    /// A list.
    case list([Plan])
    /// An ordered map.
    case map([(key: ExpressionArrayKey, value: Plan)])
    /// An `@=` expression.
    case expression(CompiledExpression)

    /// The slots this plan refers to statically: `@id`, `@?id` (when defined) and literal `service('id')`.
    var serviceReferences: [Int] {
        switch self {
        case .service(let slot): return [slot]
        case .optionalService(let slot): return slot.map { [$0] } ?? []
        case .list(let plans): return plans.flatMap(\.serviceReferences)
        case .map(let entries): return entries.flatMap(\.value.serviceReferences)
        case .expression(let compiled): return compiled.services
        case .value, .env, .parameter, .concat: return []
        }
    }

    /// Folds plans with no run-time part into a constant.
    var constant: ExpressionValue? {
        switch self {
        case .value(let value): return value
        case .parameter(_, let plan): return plan.constant
        default: return nil
        }
    }
}

/// An `@=` expression parsed at `build()`, with the services it names literally.
///
/// A class: a plan hands it to every evaluation, and copying the parsed expression would count several
/// references each time.
final class CompiledExpression: Sendable {
    let parsed: ParsedExpression
    /// Slots of literal `service('id')` calls, resolved before the expression is evaluated.
    let services: [Int]

    init(parsed: ParsedExpression, services: [Int]) {
        self.parsed = parsed
        self.services = services
    }
}

/// A resolved argument, as a factory receives it.
indirect enum ResolvedArgument: Sendable {
    case value(ExpressionValue)
    case service(any ServiceBox)
    case list([ResolvedArgument])
    case map([(key: ExpressionArrayKey, value: ResolvedArgument)])
}
