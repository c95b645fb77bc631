/// `invalid-suppression`: a suppression comment that names no rule, an unknown rule, or gives no reason.
///
/// The suppression rules are not run over a subject: the linter reports them while it applies the
/// suppressions, for every input kind.
public struct InvalidSuppressionRule: LintRule {
    public static let description = RuleDescription(
        id: "invalid-suppression", category: .suppression, defaultSeverity: .warning, subject: .any,
        summary: "a xen-policy-disable comment naming an unknown rule or giving no reason",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        "<!-- xen-policy-disable unused-typo: kept for the next release -->",
                        ExamplePolicy.vm("↓Red", ste: ["Red"], chineseWall: ["Red"]),
                    ],
                    resources: [
                        "<!-- xen-policy-disable resource-label-bootstrap-only -->",
                        ExamplePolicy.resource("↓Console", "SystemManagement"),
                    ])),
            // In a protocol description: an unknown rule, and a comment that stands before no declaration.
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    [
                        "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                        "// xen-policy-disable unread-keys: the hotplug script reads it",
                        "↓key priv/cache : string writer backend;",
                    ],
                    frontend: ExampleProtocol.frontendTransitions + ["↓// xen-policy-disable unreachable-state: stray"])),
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ],
                    resources: [
                        "<!-- xen-policy-disable resource-label-bootstrap-only: the console belongs to Domain-0 -->",
                        ExamplePolicy.resource("Console", "SystemManagement"),
                    ])),
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                    "// xen-policy-disable unread-key: the hotplug script reads it",
                    "key priv/cache : string writer backend;",
                ])),
        ])
}

/// `unused-suppression`: a suppression comment that suppresses nothing (the problem is gone).
public struct UnusedSuppressionRule: LintRule {
    public static let description = RuleDescription(
        id: "unused-suppression", category: .suppression, defaultSeverity: .warning, subject: .any,
        summary: "a xen-policy-disable comment for a rule that reports nothing there",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        "<!-- xen-policy-disable identical-label-types: a copy of Blue -->",
                        ExamplePolicy.vm("↓Red", ste: ["Red"], chineseWall: ["Red"]),
                    ])),
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "// xen-policy-disable unwritten-key: set by hand while debugging",
                    "↓key be/cache : string writer backend;",
                ])),
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        "<!-- xen-policy-disable identical-label-types: Red's twin, for a second tenant -->",
                        ExamplePolicy.vm("Red2", ste: ["Red"], chineseWall: ["Red"]),
                    ])),
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "// xen-policy-disable unwritten-key: set by hand while debugging",
                    "key be/debug : string;",
                ])),
        ])
}
