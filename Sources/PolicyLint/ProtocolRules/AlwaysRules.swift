import ProtocolModel
import ProtocolSyntax

/// `always-never-holds`: an `always` guarantee that is false in every reachable state.
public struct AlwaysNeverHoldsRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "always-never-holds", category: .correctness, defaultSeverity: .error, subject: .protocolDescription,
        summary: "an `always` guarantee that is false in every reachable state, so every instance breaks it",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                    // `&&` where `=>` was meant, about a state this frontend skips.
                    "guarantee ↓ring_published: always fe.state == Initialised && present(fe/ring-ref) blame frontend;",
                ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                    "guarantee ring_published: always fe.state == Connected => present(fe/ring-ref) blame frontend;",
                ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        for (guarantee, expression) in AlwaysGuarantees.of(context) where context.constantTruth(of: expression) == false {
            sink.report(
                "guarantee '\(guarantee.name)' is false in every reachable state, so every instance breaks it",
                at: context.location(guarantee.origin),
                hint: "an 'always' must hold after every commit; check the state names, and whether '=>' was meant")
        }
    }
}

/// `always-never-fails`: an `always` guarantee that is true in every reachable state whatever the keys hold.
public struct AlwaysNeverFailsRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "always-never-fails", category: .redundancy, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "an `always` guarantee that is true in every reachable state whatever the keys hold, so it checks nothing",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                    // This frontend goes from Initialising straight to Connected.
                    "guarantee ↓ring_published: always fe.state == Initialised => present(fe/ring-ref) blame frontend;",
                ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                    "guarantee ring_published: always fe.state == Connected => present(fe/ring-ref) blame frontend;",
                ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        for (guarantee, expression) in AlwaysGuarantees.of(context) where context.constantTruth(of: expression) == true {
            sink.report(
                "guarantee '\(guarantee.name)' is true in every reachable state whatever the keys hold, so it can never fail",
                at: context.location(guarantee.origin),
                hint: "it guards states the machines never reach; check the state names, or delete it")
        }
    }
}

enum AlwaysGuarantees {
    /// The `always` guarantees of the protocol with their conditions as written.
    static func of(_ context: ProtocolLintContext) -> [(Guarantee, Expression)] {
        context.definition.guarantees.compactMap { guarantee in
            guard case .always = guarantee.kind, let declaration = context.guarantees[context.location(guarantee.origin)],
                case .always(let expression) = declaration.body
            else { return nil }
            return (guarantee, expression)
        }
    }
}
