import ProtocolModel

/// `unreachable-state`: a transition from a state its machine never reaches.
public struct UnreachableStateRule: ProtocolLintRule {
    /// A per-device sub-state key (pci's `be/state-{n}`) and the start of its key machine.
    static func keyMachine(_ transitions: [String], initialValue: String? = "Initialising") -> [String] {
        [
            "key be/num : u32 init toolstack writer toolstack;",
            "key be/state-{n} : enum XenbusState init toolstack\(initialValue.map { " = \($0)" } ?? "") writer toolstack | backend"
                + " for n in [0 .. val(be/num, 0));",
            "machine be/state-{n} {",
        ] + transitions.map { "  " + $0 } + ["}"]
    }

    public static let description = RuleDescription(
        id: "unreachable-state", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a transition from a state that its machine never reaches",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ExampleProtocol.frontendTransitions + [
                        "↓Closing -> Closed by frontend;",
                        "↓{Connected, Closing} -> Initialising by frontend when be.state == Closed;",
                    ])),
            // A key machine starts from its key's `init` value; its guards are judged against the
            // reachable states of the directory machines (the backend is never Closing).
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    keyMachine([
                        "Initialising -> Initialised by backend when be.state == Connected;",
                        "Initialised -> Closing by toolstack when be.state == Closing;",
                        "↓Closing -> Closed by backend;",
                    ]))),
        ],
        nonTriggeringExamples: [
            // `*` names no state in particular.
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    frontend: ExampleProtocol.frontendTransitions + ["* -> Closed by frontend;"])),
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    keyMachine([
                        "Initialising -> Initialised by backend when be.state == Connected;",
                        "Initialised -> Closing by toolstack;",
                        "Closing -> Closed by backend;",
                    ]))),
            // An entry of a key without an `init` value may be created in any state.
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    keyMachine(["Closing -> Closed by backend;"], initialValue: nil))),
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        let reachable = context.analysis.reachableStates
        if !reachable.isEmpty {
            for (m, machine) in definition.machines.enumerated() {
                let key = "\(definition.directories[machine.directory].name).state"
                report(machine, key, reached: Set(reachable.map { $0[m] }), context, &sink)
            }
        }
        // Key machines are explored on their own, from the value their key is created with.
        for (machine, reached) in zip(definition.keyMachines, context.analysis.keyMachineReachableStates) {
            let key = "\(definition.directories[machine.directory].name)/\(definition.keys[machine.key].pattern)"
            report(machine, key, reached: reached, context, &sink)
        }
    }

    private func report(
        _ machine: Machine, _ key: String, reached: Set<Int>, _ context: ProtocolLintContext, _ sink: inout FindingSink
    ) {
        let definition = context.definition
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
