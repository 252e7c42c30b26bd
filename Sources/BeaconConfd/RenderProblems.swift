// SPDX-License-Identifier: Apache-2.0

/// What went wrong while one template rendered: Mustache renders a missing value as empty text, so the template's
/// values note each problem here, and rendering fails afterwards instead of publishing a broken file.
///
/// One instance serves one synchronous render call and is never shared between threads.
final class RenderProblems {
    private(set) var problems: [ConfdError] = []
    private var seen: Set<String> = []

    /// Notes a key or field the template read that does not exist.
    ///
    /// - Parameters:
    ///   - what: `/test/apache-8003`, or `field port of the JSON at /test/x`.
    ///   - key: The discovery key involved.
    func missing(_ what: String, key: String) {
        self.add(ConfdError(.missingKey, "the template reads \(what), which does not exist", key: key))
    }

    /// Notes a value that cannot be used the way the template uses it.
    func invalid(_ message: String, key: String) {
        self.add(ConfdError(.invalidValue, message, key: key))
    }

    /// Notes a function the template calls that does not exist.
    func unknownFunction(_ name: String, on what: String, key: String) {
        self.add(
            ConfdError(
                .invalidTemplate,
                "\(name)(…) is not a template function (applied to \(what)); see the functions in Documentation/Confd.md",
                key: key
            )
        )
    }

    private func add(_ problem: ConfdError) {
        guard self.seen.insert(problem.description).inserted else { return }
        self.problems.append(problem)
    }
}
