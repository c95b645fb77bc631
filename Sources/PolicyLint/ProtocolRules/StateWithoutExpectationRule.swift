/// `state-without-expectation`: a reachable global state in which no `expect` can be armed.
public struct StateWithoutExpectationRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "state-without-expectation", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a reachable unfinished global state that no liveness expectation covers",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(expectations: Array(ExampleProtocol.expectations.dropLast()), name: "↓p"))
        ],
        nonTriggeringExamples: [RuleExample(protocolDescription: ExampleProtocol.description())])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        guard !definition.machines.isEmpty else { return }
        let expectations = definition.expectations.compactMap { context.expectations[context.location($0.origin)] }
        for global in context.analysis.reachableStates where !context.isTerminal(global) {
            // Covered: some expectation may be armed there (its trigger may hold) and still unmet.
            let covered = expectations.contains { expectation in
                context.analysis.truth(of: expectation.trigger, in: global) != false
                    && context.analysis.truth(of: expectation.condition, in: global) != true
            }
            guard !covered else { continue }
            sink.report(
                "reachable state \(context.describe(global)) of '\(definition.name)' has no liveness expectation",
                at: context.analysis.location,
                hint: "add an 'expect ... within ... after ...' whose trigger holds there, so that a stall there is blamed on someone")
        }
    }
}
