/// `reserved-label-name`: a label named like an entry the tools create themselves.
public struct ReservedLabelNameRule: PolicyLintRule {
    /// Names with a meaning of their own in label maps and resource files, and why.
    static let reserved: [String: String] = [
        "__NULL_LABEL__": "the label map of Xen 3.0.4 and later names ssid 0 '__NULL_LABEL__'",
        "DEFAULT": "the label map of Xen 3.0.2 names ssid 0 'DEFAULT', and xend's built-in policy is called DEFAULT",
        "__INACCESSIBLE__": "xend's resource label file uses '__INACCESSIBLE__' for resources no domain may use",
    ]

    public static let description = RuleDescription(
        id: "reserved-label-name", category: .naming, defaultSeverity: .warning, subject: .policy,
        summary: "a label named `__NULL_LABEL__`, `DEFAULT` or `__INACCESSIBLE__`, names the Xen tools give entries of their own",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Guest"], chineseWall: ["SystemManagement", "Guest"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Guest"]),
                        "<VirtualMachineLabel>↓<Name>__NULL_LABEL__</Name><SimpleTypeEnforcementTypes><Type>Guest</Type>"
                            + "</SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Guest</Type></ChineseWallTypes></VirtualMachineLabel>",
                    ]))
        ],
        nonTriggeringExamples: [
            // __UNLABELED__ is reserved too, but on purpose: it is the label unlabeled domains get.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "__UNLABELED__"], chineseWall: ["SystemManagement", "__UNLABELED__"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "__UNLABELED__"]),
                        ExamplePolicy.vm("__UNLABELED__", ste: ["__UNLABELED__"], chineseWall: ["__UNLABELED__"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        for label in context.labels {
            guard let reason = Self.reserved[label.name] else { continue }
            sink.report(
                "\(label.kindDescription) name '\(label.name)' is reserved", at: context.nameElement(of: label)?.location,
                hint: "\(reason); tools looking the name up find that entry or this label; rename it")
        }
    }
}
