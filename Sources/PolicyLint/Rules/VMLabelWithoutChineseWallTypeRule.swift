/// `vm-label-without-chinese-wall-type` (opt-in): a VM label that no conflict set can ever keep out.
public struct VMLabelWithoutChineseWallTypeRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "vm-label-without-chinese-wall-type", category: .correctness, defaultSeverity: .info, isEnabledByDefault: false,
        subject: .policy, summary: "a VM label other than the bootstrap label with no Chinese Wall type (opt-in)",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    conflicts: [ExamplePolicy.conflict("C", ["Red", "Blue"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("↓Blue", ste: ["Blue"], chineseWall: nil),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    conflicts: [ExamplePolicy.conflict("C", ["Red", "Blue"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["Blue"], chineseWall: ["Blue"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        guard context.policy.chineseWall != nil else { return }
        let bootstrapName = context.bootstrapLabel?.name
        for label in context.policy.vmLabels where label.name != bootstrapName && (label.chineseWallTypes ?? []).isEmpty {
            sink.report(
                "VM label '\(label.name)' has no Chinese Wall type, so no conflict set can keep its domains out",
                at: label.location,
                hint: "its domains run beside any other workload; give it the Chinese Wall type of its workload")
        }
    }
}
