import ProtocolModel
import ProtocolSyntax

/// `turn-blames-several`: an `expect ... blame turn` that may expire in a global state whose turn
/// table names several parties, so that a stall there is blamed on all of them.
public struct TurnBlamesSeveralRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "turn-blames-several", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a `blame turn` expectation that may expire where it is several parties' turn, so all of them are blamed",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ["Initialising -> Connected by frontend;", "{Initialising, Connected} -> Closed by frontend;"],
                    expectations: [
                        "↓expect fe.state == Connected && be.state == Connected within 10s after fe.state == Initialising blame turn;"
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    expectations: ExampleProtocol.expectations + [
                        "expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame turn;"
                    ])),
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ["Initialising -> Connected by frontend;", "{Initialising, Connected} -> Closed by frontend;"],
                    expectations: ExampleProtocol.expectations + [
                        "expect fe.state == Connected && be.state == Connected within 10s after fe.state == Initialising blame backend;"
                    ])),
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        guard definition.machines.count == 2 else { return }
        for expectation in definition.expectations where expectation.blame == .turn {
            guard let syntax = context.expectations[context.location(expectation.origin)] else { continue }
            // The first state (in exploration order) where it may expire with several parties' turn.
            for global in context.analysis.reachableStates where !context.isTerminal(global) {
                guard context.analysis.truth(of: syntax.trigger, in: global) != false,
                    context.analysis.truth(of: syntax.condition, in: global) != true,
                    let parties = severalParties(definition, global)
                else { continue }
                sink.report(
                    "this expectation blames whose turn it is, and in \(context.describe(global)) the turn table names \(parties.joined(separator: " and ")): a stall there is blamed on all of them",
                    at: context.location(expectation.origin),
                    hint: "name the role the wait is for ('blame backend'), or split the expectation by the states it waits in")
                break
            }
        }
    }

    /// The parties of the first turn row of `global` that names more than one, if any. An alias (the
    /// hotplug script, which runs in the backend's domain) is the same party as the role it stands
    /// for, and the privileged toolstack is a party of its own.
    private func severalParties(_ definition: ProtocolDefinition, _ global: [Int]) -> [String]? {
        for turn in definition.turns where turn.frontendState == global[0] && turn.backendState == global[1] {
            let roles = definition.roles.indices.filter { turn.roles.contains($0) }
            let parties = roles.filter { role in
                guard let alias = definition.roles[role].aliasOf else { return true }
                return !roles.contains(alias)
            }
            if parties.count > 1 { return parties.map { definition.roles[$0].name } }
        }
        return nil
    }
}
