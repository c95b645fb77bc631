/// `resource-label-bootstrap-only`: a resource label that no VM label but the bootstrap one can use.
public struct ResourceLabelBootstrapOnlyRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "resource-label-bootstrap-only", category: .correctness, defaultSeverity: .warning, subject: .policy,
        summary: "a resource label that no VM label other than the bootstrap label can use",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ],
                    resources: [ExamplePolicy.resource("RedDisk", "Red"), ExamplePolicy.resource("↓BlueDisk", "Blue")]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["Blue"], chineseWall: ["Blue"]),
                    ],
                    resources: [ExamplePolicy.resource("RedDisk", "Red"), ExamplePolicy.resource("BlueDisk", "Blue")]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        guard context.policy.simpleTypeEnforcement != nil else { return }
        let bootstrapName = context.bootstrapLabel?.name
        // A domain may use a resource when they share an STE type (xend asks the hypervisor's sharing hook).
        var reachable: Set<String> = []
        for label in context.policy.vmLabels where label.name != bootstrapName {
            reachable.formUnion(label.steTypes ?? [])
        }
        let bootstrapTypes = Set(context.bootstrapLabel?.steTypes ?? [])
        for resource in context.policy.resourceLabels {
            let types = resource.steTypes ?? []
            guard !types.contains(where: reachable.contains) else { continue }
            if let bootstrapName, types.contains(where: bootstrapTypes.contains) {
                sink.report(
                    "resource label '\(resource.name)' can be used only by the bootstrap label '\(bootstrapName)'",
                    at: resource.location,
                    hint: "no other VM label shares an STE type with it; if the resource is Domain-0's alone, say so with a "
                        + "suppression, else give its type to the VM labels that need it")
            } else {
                sink.report(
                    "no VM label can use resource label '\(resource.name)'", at: resource.location,
                    hint: "no VM label shares an STE type with it, so every domain is refused access")
            }
        }
    }
}
