/// `unused-type`: a declared STE or Chinese Wall type that no label carries.
public struct UnusedTypeRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "unused-type", category: .redundancy, defaultSeverity: .warning, subject: .policy,
        summary: "a declared STE or Chinese Wall type that no label uses",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "↓Green"], chineseWall: ["SystemManagement", "Red", "↓Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ])),
            // A Chinese Wall type that only a conflict set names is still unused: no domain carries it.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red", "↓Blue"],
                    conflicts: [ExamplePolicy.conflict("C", ["Red", "Blue"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ])),
        ],
        nonTriggeringExamples: [
            // A type only a resource label carries is used: the bootstrap label reaches it.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Disk"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Disk"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ],
                    resources: [ExamplePolicy.resource("Disk", "Disk")]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        for component in PolicyLintContext.Component.allCases {
            guard let declared = context.declaredTypes(component) else { continue }
            var used: Set<String> = []
            for label in context.labels {
                used.formUnion(context.types(of: label, component) ?? [])
            }
            let inConflictSets =
                component == .chineseWall ? Set(context.policy.chineseWall?.conflictSets.flatMap(\.types) ?? []) : []
            let what = component == .simpleTypeEnforcement ? "STE" : "Chinese Wall"
            for (index, type) in declared.types.enumerated() where !used.contains(type) {
                let location = index < declared.locations.count ? declared.locations[index] : nil
                sink.report(
                    "\(what) type '\(type)' is not used by any label" + (inConflictSets.contains(type) ? " (only by conflict sets)" : ""),
                    at: location,
                    hint: component == .simpleTypeEnforcement
                        ? "no domain or resource carries it, so it lets nothing share; remove it or give it to the labels that need it"
                        : "no domain carries it, so no conflict set can act on it; remove it or give it to the labels that need it")
            }
        }
    }
}
