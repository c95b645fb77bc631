/// `vm-label-not-authorized`: a VM label with STE types the bootstrap label lacks (Xen 3.2+ will not run it).
public struct VMLabelNotAuthorizedRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "vm-label-not-authorized", category: .correctness, defaultSeverity: .error, subject: .policy,
        summary: "a VM label whose STE types are not all in the bootstrap label's, which Xen 3.2+ refuses to run",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["↓Blue"], chineseWall: ["Blue"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["Blue"], chineseWall: ["Blue"]),
                    ])),
            // Without a Version the policy is for Xen 3.0.4/3.1, whose hypervisors had no authorization check.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("Blue", ste: ["Blue"], chineseWall: ["Blue"]),
                    ], version: nil)),
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        // The authorization hook (`ACMHOOK_authorization`) arrived in Xen 3.2.
        guard context.target.usesXendNumbering, context.policy.simpleTypeEnforcement != nil,
            let bootstrap = context.bootstrapLabel
        else { return }
        let allowed = Set(bootstrap.steTypes ?? [])
        for label in context.policy.vmLabels where label.name != bootstrap.name {
            var seen: Set<String> = []
            let missing = (label.steTypes ?? []).filter { !allowed.contains($0) && seen.insert($0).inserted }
            guard let first = missing.first else { continue }
            let list = missing.map { "'\($0)'" }.joined(separator: ", ")
            sink.report(
                "VM label '\(label.name)' has STE type\(missing.count == 1 ? "" : "s") \(list) that the bootstrap label "
                    + "'\(bootstrap.name)' lacks; Xen 3.2+ refuses to start such a domain",
                at: context.location(of: first, in: label, .simpleTypeEnforcement),
                hint: "xend starts a domain only if Domain-0's STE types include all of the domain's; add "
                    + "\(missing.count == 1 ? "it" : "them") to the bootstrap label, or remove \(missing.count == 1 ? "it" : "them") here")
        }
    }
}
