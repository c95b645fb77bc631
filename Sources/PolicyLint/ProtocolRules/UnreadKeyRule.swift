import ProtocolModel

/// `unread-key`: a key that no expression of the description reads and that no role but its writers
/// may read.
public struct UnreadKeyRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "unread-key", category: .redundancy, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a key that no expression reads and that no role but its writers can read",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                    "key ↓priv/cache : string writer backend;",
                    "key priv/generation : u32 writer backend;",
                    "guarantee generation_bounded: always val(priv/generation, 0) < 1000 blame writer;",
                ]))
        ],
        nonTriggeringExamples: [
            // The frontend may read what the backend writes in its directory: the peer's driver reads it.
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key be/cache : string writer backend;",
                    "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                    "key priv/generation : u32 writer backend;",
                    "guarantee generation_bounded: always val(priv/generation, 0) < 1000 blame writer;",
                    // Deprecated keys are kept only so that what old drivers write is accepted.
                    "key priv/legacy : string writer backend deprecated;",
                ])),
            // A key machine's guard reads priv/ready; the machine's own key is read by the roles
            // that take its transitions.
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                    "key priv/ready : \"0\" | \"1\" writer backend;",
                    "key priv/stage : enum XenbusState init backend = Initialising writer backend;",
                    "machine priv/stage { Initialising -> Initialised by backend when priv/ready == \"1\"; }",
                ])),
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        var read: Set<String> = []
        func scan(_ program: Program?) {
            for instruction in program?.instructions ?? [] {
                switch instruction {
                case .value(let pattern), .present(let pattern), .number(let pattern, _):
                    read.insert(ProtocolLintContext.shape(of: pattern))
                default: break
                }
            }
        }
        for key in definition.keys {
            scan(key.condition)
            for index in key.indices {
                scan(index.lower)
                scan(index.upper)
            }
        }
        for machine in definition.machines + definition.keyMachines {
            for transition in machine.transitions {
                scan(transition.guardProgram)
                scan(transition.obligation)
            }
        }
        // A key a machine drives is read by the roles that take its transitions, as a state key is.
        let driven = Set(definition.keyMachines.map(\.key))
        for guarantee in definition.guarantees {
            switch guarantee.kind {
            case .never(_, _, _, let unless): scan(unless)
            case .always(let condition): scan(condition)
            }
        }
        for expectation in definition.expectations {
            scan(expectation.condition)
            scan(expectation.trigger)
        }
        for (index, key) in definition.keys.enumerated()
        where !key.isState && !driven.contains(index) && !key.deprecated && !read.contains(ProtocolLintContext.shape(of: key.pattern)) {
            let writers = Set(
                definition.roles.indices.filter { key.writers.contains($0) || key.initializers.contains($0) }
                    .flatMap(context.principals))
            let directory = definition.directories[key.pattern.directory]
            // The toolstack may read everything, so being readable by it says nothing.
            let peers = ([directory.owner] + directory.readers).filter {
                definition.roles[$0].principal != .privileged && context.principals(of: $0).isDisjoint(with: writers)
            }
            guard peers.isEmpty else { continue }
            sink.report(
                "key '\(context.name(of: key))' is read by nothing: no expression mentions it, and only its writers may read '\(directory.name)'",
                at: context.location(key.origin),
                hint: "delete it, add the role that consumes it to the readers of '\(directory.name)', or state what it must hold")
        }
    }
}
