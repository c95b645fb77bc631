import PolicyDiagnostics

/// `conflicting-types-in-label`: a VM label carrying two types of one conflict set.
public struct ConflictingTypesInLabelRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "conflicting-types-in-label", category: .correctness, defaultSeverity: .error, subject: .policy,
        summary: "a VM label carrying two types of one conflict set",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Bank"], chineseWall: ["SystemManagement", "BankA", "BankB"],
                    conflicts: [ExamplePolicy.conflict("Banks", ["BankA", "BankB"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Bank"]),
                        ExamplePolicy.vm("Broker", ste: ["Bank"], chineseWall: ["BankA", "↓BankB"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Bank"], chineseWall: ["SystemManagement", "BankA", "BankB"],
                    conflicts: [ExamplePolicy.conflict("Banks", ["BankA", "BankB"])],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Bank"]),
                        ExamplePolicy.vm("BrokerA", ste: ["Bank"], chineseWall: ["BankA"]),
                        ExamplePolicy.vm("BrokerB", ste: ["Bank"], chineseWall: ["BankB"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        let sets = context.policy.chineseWall?.conflictSets ?? []
        var setsOfType: [String: [Int]] = [:]
        for (index, set) in sets.enumerated() {
            for type in Set(set.types) { setsOfType[type, default: []].append(index) }
        }
        guard !setsOfType.isEmpty else { return }
        for label in context.policy.vmLabels {
            // The first type of the label found in each set; a second one is the finding.
            var firstInSet: [Int: String] = [:]
            var reported: Set<Int> = []
            var seen: Set<String> = []
            for type in label.chineseWallTypes ?? [] where seen.insert(type).inserted {
                for index in setsOfType[type] ?? [] {
                    guard let first = firstInSet[index] else {
                        firstInSet[index] = type
                        continue
                    }
                    guard reported.insert(index).inserted else { continue }
                    let setName = sets[index].name.map { "conflict set '\($0)'" } ?? "one conflict set"
                    sink.report(
                        "VM label '\(label.name)' carries '\(first)' and '\(type)' of \(setName)",
                        at: context.location(of: type, in: label, .chineseWall),
                        hint: "the Xen user guide calls this illegal, but the hypervisor does not check it: a domain with "
                            + "this label runs both workloads at once, which the set exists to prevent; split the label",
                        notes: [DiagnosticNote("the conflict set", at: sets[index].location)])
                }
            }
        }
    }
}
