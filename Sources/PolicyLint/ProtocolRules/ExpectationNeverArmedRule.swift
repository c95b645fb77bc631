/// `expectation-never-armed`: an `expect` whose trigger is false in every reachable state.
public struct ExpectationNeverArmedRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "expectation-never-armed", category: .redundancy, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "an `expect` whose trigger is false in every reachable state, so it never applies",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    expectations: ExampleProtocol.expectations + [
                        "↓expect be.state == Connected within 10s after fe.state == Initialised blame backend;"
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    expectations: ExampleProtocol.expectations + [
                        "expect fe.state == Connected within 10s after fe.state == Initialising && be.state == Connected blame frontend;"
                    ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        for expectation in context.definition.expectations {
            guard let syntax = context.expectations[context.location(expectation.origin)],
                context.constantTruth(of: syntax.trigger) == false
            else { continue }
            sink.report(
                "the trigger of this expectation is false in every reachable state, so it is never armed",
                at: context.location(expectation.origin),
                hint: "check the state names after 'after'; a stall it was meant to catch is blamed on nobody")
        }
    }
}
