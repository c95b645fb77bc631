import PolicyDiagnostics
import PolicyModel

/// `identical-label-types`: two labels of one kind with the same STE and Chinese Wall types.
public struct IdenticalLabelTypesRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "identical-label-types", category: .redundancy, defaultSeverity: .warning, subject: .policy,
        summary: "two VM labels, or two resource labels, with identical type sets (probably a copy)",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red", "Blue"], chineseWall: ["SystemManagement", "Red", "Blue"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red", "Blue"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                        ExamplePolicy.vm("↓Blue", ste: ["Red"], chineseWall: ["Red"]),
                    ],
                    resources: [ExamplePolicy.resource("RedDisk", "Red"), ExamplePolicy.resource("↓RedDisk2", "Red")]))
        ],
        nonTriggeringExamples: [
            // A VM label and a resource label with the same types are the usual pair: a domain and its disk.
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
        for labels in [context.policy.vmLabels, context.policy.resourceLabels] {
            var first: [String: Label] = [:]
            for label in labels {
                // Sets, not lists: order and repetition do not change which ssid rows the label gets.
                // NUL cannot occur in XML text, so it separates names unambiguously.
                let key = [label.steTypes, label.chineseWallTypes].map { types in
                    Set(types ?? []).sorted().joined(separator: "\u{0}")
                }.joined(separator: "\u{0}\u{0}")
                if let earlier = first[key] {
                    sink.report(
                        "\(label.kindDescription) '\(label.name)' has the same types as '\(earlier.name)'", at: label.location,
                        hint: "the hypervisor cannot tell the two apart (Xen 3.0.2 even merged them into one ssid); if that "
                            + "is meant, suppress this with the reason, else give this label its own types",
                        notes: [DiagnosticNote("'\(earlier.name)' is here", at: earlier.location)])
                } else {
                    first[key] = label
                }
            }
        }
    }
}
