/// `small-conflict-set`: a Chinese Wall conflict set with fewer than two types.
public struct SmallConflictSetRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "small-conflict-set", category: .correctness, defaultSeverity: .warning, subject: .policy,
        summary: "a conflict set with fewer than two types, which excludes nothing",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    conflicts: [ExamplePolicy.conflict("↓C", ["Red"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["Blue"], chineseWall: ["Blue"]),
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
        for set in context.policy.chineseWall?.conflictSets ?? [] where set.types.count < 2 {
            let name = set.name.map { "conflict set '\($0)'" } ?? "a conflict set"
            let count = set.types.isEmpty ? "no types" : "only the type '\(set.types[0])'"
            sink.report(
                "\(name) has \(count); it excludes nothing", at: set.location,
                hint: "a running domain only blocks the other types of a set it belongs to; add the types that must not run "
                    + "together, or remove the set")
        }
    }
}
