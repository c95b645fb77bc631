import ProtocolModel

/// `unreachable-state`: a transition from a state its machine never reaches.
public struct UnreachableStateRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "unreachable-state", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a transition from a state that its machine never reaches",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ExampleProtocol.frontendTransitions + [
                        "↓Closing -> Closed by frontend;",
                        "↓{Connected, Closing} -> Initialising by frontend when be.state == Closed;",
                    ]))
        ],
        nonTriggeringExamples: [
            // `*` names no state in particular.
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ExampleProtocol.frontendTransitions + ["* -> Closed by frontend;"]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        let reachable = context.analysis.reachableStates
        guard !reachable.isEmpty else { return }
        for (m, machine) in definition.machines.enumerated() {
            let reached = Set(reachable.map { $0[m] })
            let key = "\(definition.directories[machine.directory].name).state"
            for transition in machine.transitions where transition.from != .all {
                let sources = definition.states.filter { transition.from.contains($0.value) }
                let dead = sources.filter { !reached.contains($0.value) }.map { "'\($0.name)'" }
                guard !dead.isEmpty else { continue }
                let message: String
                if dead.count == 1 {
                    message =
                        "state \(dead[0]) of '\(key)' is never reached"
                        + (sources.count == 1 ? ", so this transition can never be taken" : ", so this transition is never taken from it")
                } else {
                    message =
                        "states \(dead.dropLast().joined(separator: ", ")) and \(dead.last!) of '\(key)' are never reached"
                        + (sources.count == dead.count
                            ? ", so this transition can never be taken" : ", so this transition is never taken from them")
                }
                sink.report(
                    message, at: context.location(transition.origin),
                    hint: "add the transition that reaches it, or remove the dead source")
            }
        }
    }
}
