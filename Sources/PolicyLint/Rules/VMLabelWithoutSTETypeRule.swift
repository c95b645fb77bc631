/// `vm-label-without-ste-type`: a VM label with no STE type, which can share nothing.
public struct VMLabelWithoutSTETypeRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "vm-label-without-ste-type", category: .correctness, defaultSeverity: .error, subject: .policy,
        summary: "a VM label with no STE type, which can share nothing, not even with Domain-0",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement"], chineseWall: ["SystemManagement", "Isolated"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement"]),
                        ExamplePolicy.vm("↓Isolated", ste: nil, chineseWall: ["Isolated"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Isolated"], chineseWall: ["SystemManagement", "Isolated"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Isolated"]),
                        ExamplePolicy.vm("Isolated", ste: ["Isolated"], chineseWall: ["Isolated"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        // Without an STE component nothing restricts sharing, so a label needs no STE type.
        guard context.policy.simpleTypeEnforcement != nil else { return }
        for label in context.policy.vmLabels where (label.steTypes ?? []).isEmpty {
            sink.report(
                "VM label '\(label.name)' has no STE type, so its domains can share with nothing",
                at: label.location,
                hint: "domains share event channels and grant tables only through a common STE type, so it cannot even "
                    + "use Domain-0's device back ends, and Xen 3.2+ refuses to start it; give it the types it must share")
        }
    }
}
