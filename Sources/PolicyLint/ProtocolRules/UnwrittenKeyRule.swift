/// `unwritten-key`: a key that no role creates (`init`) and no role may write (`writer`).
public struct UnwrittenKeyRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "unwritten-key", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a key with no `init` and no `writer`, which nobody may ever write",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key be/mode : \"r\" | \"w\" init toolstack;",
                    "key ↓be/sectors : u32;",
                    "key ↓fe/ring-ref : u32 phase {Initialising};",
                ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key be/mode : \"r\" | \"w\" init toolstack;",
                    "key be/sectors : u32 writer backend;",
                    "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                    // A deprecated key without writers records a legacy key that must no longer be written.
                    "key fe/num-ring-pages : u32 deprecated;",
                ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        for key in context.definition.keys where key.initializers.isEmpty && key.writers.isEmpty && !key.deprecated {
            sink.report(
                "key '\(context.name(of: key))' has no 'init' and no 'writer', so nobody may write it",
                at: context.location(key.origin),
                hint: "name the role that writes it ('writer ROLE'; 'init ROLE' for one that creates it with the device), "
                    + "or delete it; to forbid the key, write a 'never' guarantee")
        }
    }
}
