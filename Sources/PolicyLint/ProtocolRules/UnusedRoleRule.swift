import ProtocolModel

/// `unused-role`: a role that nothing in the protocol refers to.
public struct UnusedRoleRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "unused-role", category: .redundancy, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a role that no directory, key, transition, guarantee, expectation or label binding names",
        triggeringExamples: [RuleExample(protocolDescription: ExampleProtocol.description(["role ↓hotplug = backend;"]))],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "role hotplug = backend;",
                    "key be/hotplug-status : \"connected\" | \"error\" writer hotplug;",
                ])),
            // Named only by a key machine's transition (an alias of one of the key's writers).
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "role pciback = backend;",
                    "key be/num : u32 init toolstack writer toolstack;",
                    "key be/state-{n} : enum XenbusState init toolstack = Initialising writer toolstack | backend"
                        + " for n in [0 .. val(be/num, 0));",
                    "machine be/state-{n} { Initialising -> Initialised by pciback; }",
                ])),
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        var used = RoleMask.empty
        func use(_ mask: RoleMask) { used.rawValue |= mask.rawValue }
        func use(_ blame: Blame) { if case .role(let role) = blame { use(RoleMask([role])) } }
        for directory in definition.directories { use(RoleMask([directory.owner] + directory.readers)) }
        for key in definition.keys {
            use(key.writers)
            use(key.initializers)
        }
        for machine in definition.machines + definition.keyMachines {
            for transition in machine.transitions { use(transition.by) }
        }
        for guarantee in definition.guarantees {
            if case .never(let roles, _, _, _) = guarantee.kind { use(roles) }
            use(guarantee.blame)
        }
        for expectation in definition.expectations { use(expectation.blame) }
        for binding in definition.labels { use(RoleMask([binding.role])) }
        // An alias stands for its target.
        for role in definition.roles { if let target = role.aliasOf { use(RoleMask([target])) } }
        for (index, role) in definition.roles.enumerated() where !used.contains(index) {
            guard let declaration = context.roleDeclarations[role.name] else { continue }
            sink.report(
                "role '\(role.name)' is never used", at: declaration.name.location,
                hint: "no directory, key, transition, guarantee, expectation or label binding names it; delete it")
        }
    }
}
