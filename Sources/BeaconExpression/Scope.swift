// SPDX-License-Identifier: Apache-2.0

/// What one evaluation carries through the compiled closures: the variables and the diagnostics callback.
struct Scope {
    /// The variables, by name.
    let values: [String: ExpressionValue]
    /// Receives PHP warnings, notices and deprecations.
    let diagnostics: ((ExpressionDiagnostic) -> Void)?

    /// A scope with no variables that drops diagnostics.
    static var silent: Scope { Scope(values: [:], diagnostics: nil) }

    /// Reports a PHP `E_WARNING`.
    func warning(_ message: @autoclosure () -> String) {
        diagnostics?(ExpressionDiagnostic(level: .warning, message: message()))
    }

    /// Reports a PHP `E_DEPRECATED`.
    func deprecation(_ message: @autoclosure () -> String) {
        diagnostics?(ExpressionDiagnostic(level: .deprecated, message: message()))
    }

    /// Reports a PHP `E_NOTICE`.
    func notice(_ message: @autoclosure () -> String) {
        diagnostics?(ExpressionDiagnostic(level: .notice, message: message()))
    }
}
