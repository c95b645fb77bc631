import PolicyDiagnostics

/// `duplicate-conflict-set-name`: two conflict sets with the same name.
public struct DuplicateConflictSetNameRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "duplicate-conflict-set-name", category: .naming, defaultSeverity: .info, subject: .policy,
        summary: "two conflict sets with the same name",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "A", "B", "C"], chineseWall: ["SystemManagement", "A", "B", "C"],
                    conflicts: [ExamplePolicy.conflict("RER", ["A", "B"]), ExamplePolicy.conflict("↓RER", ["B", "C"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "A", "B", "C"]),
                        ExamplePolicy.vm("A", ste: ["A"], chineseWall: ["A"]),
                        ExamplePolicy.vm("B", ste: ["B"], chineseWall: ["B"]),
                        ExamplePolicy.vm("C", ste: ["C"], chineseWall: ["C"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "A", "B", "C"], chineseWall: ["SystemManagement", "A", "B", "C"],
                    conflicts: [ExamplePolicy.conflict("RER-1", ["A", "B"]), ExamplePolicy.conflict("RER-2", ["B", "C"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "A", "B", "C"]),
                        ExamplePolicy.vm("A", ste: ["A"], chineseWall: ["A"]),
                        ExamplePolicy.vm("B", ste: ["B"], chineseWall: ["B"]),
                        ExamplePolicy.vm("C", ste: ["C"], chineseWall: ["C"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        var first: [String: SourceLocation?] = [:]
        for set in context.policy.chineseWall?.conflictSets ?? [] {
            // Sets without a name (allowed before Xen 3.2) cannot be told apart by name anyway.
            guard let name = set.name, !name.isEmpty else { continue }
            if let earlier = first[name] {
                sink.report(
                    "conflict set name '\(name)' is used more than once", at: set.location,
                    hint: "sets with the same name are separate sets (they are not merged); give each its own name",
                    notes: [DiagnosticNote("first used here", at: earlier)])
            } else {
                first[name] = set.location
            }
        }
    }
}
