import PolicyDiagnostics
import PolicyModel

/// `vm-label-blocked-by-bootstrap`: a VM label that a conflict set of the bootstrap label's keeps out for good.
public struct VMLabelBlockedByBootstrapRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "vm-label-blocked-by-bootstrap", category: .correctness, defaultSeverity: .error, subject: .policy,
        summary: "a VM label carrying a Chinese Wall type that a conflict set excludes while Domain-0 runs, so it never starts",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Web"], chineseWall: ["SystemManagement", "Untrusted"],
                    conflicts: [ExamplePolicy.conflict("Isolation", ["SystemManagement", "Untrusted"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Web"]),
                        ExamplePolicy.vm("Web", ste: ["Web"], chineseWall: ["↓Untrusted"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Web"], chineseWall: ["SystemManagement", "Trusted", "Untrusted"],
                    conflicts: [ExamplePolicy.conflict("Isolation", ["Trusted", "Untrusted"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Web"]),
                        ExamplePolicy.vm("Web", ste: ["Web"], chineseWall: ["Untrusted"]),
                        ExamplePolicy.vm("Admin", ste: ["SystemManagement"], chineseWall: ["Trusted"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        guard let bootstrap = context.bootstrapLabel, let chineseWall = context.policy.chineseWall else { return }
        let domain0Types = Set(bootstrap.chineseWallTypes ?? [])
        guard !domain0Types.isEmpty else { return }
        // Domain-0 is admitted first and never stops: for every set it shares a type with, the set's other
        // types stay in the conflict aggregate, and the hypervisor refuses any domain carrying one of them.
        var blockedBy: [String: (set: ConflictSet, domain0Type: String)] = [:]
        for set in chineseWall.conflictSets {
            guard let shared = set.types.first(where: domain0Types.contains) else { continue }
            for type in set.types where !domain0Types.contains(type) && blockedBy[type] == nil {
                blockedBy[type] = (set, shared)
            }
        }
        guard !blockedBy.isEmpty else { return }
        for label in context.policy.vmLabels where label.name != bootstrap.name {
            guard let type = (label.chineseWallTypes ?? []).first(where: { blockedBy[$0] != nil }), let cause = blockedBy[type]
            else { continue }
            let setName = cause.set.name.map { "conflict set '\($0)'" } ?? "a conflict set"
            sink.report(
                "VM label '\(label.name)' can never start: its Chinese Wall type '\(type)' is in \(setName) with "
                    + "'\(cause.domain0Type)' of the bootstrap label '\(bootstrap.name)'",
                at: context.location(of: type, in: label, .chineseWall),
                hint: "Domain-0 runs all the time, so the hypervisor refuses every domain with a type it conflicts with; "
                    + "take '\(cause.domain0Type)' out of the set or out of the bootstrap label",
                notes: [DiagnosticNote("the conflict set", at: cause.set.location)])
        }
    }
}
