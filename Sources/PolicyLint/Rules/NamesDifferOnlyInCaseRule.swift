import PolicyDiagnostics
import PolicyModel

/// `names-differ-only-in-case`: two type names (or two label names of one kind) that differ only in case.
public struct NamesDifferOnlyInCaseRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "names-differ-only-in-case", category: .naming, defaultSeverity: .warning, subject: .policy,
        summary: "type names, or label names, that differ only in case",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "green", "↓Green"], chineseWall: ["SystemManagement", "green"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "green", "Green"]),
                        ExamplePolicy.vm("green", ste: ["green"], chineseWall: ["green"]),
                        ExamplePolicy.vm("↓GREEN", ste: ["Green"], chineseWall: ["green"]),
                    ]))
        ],
        nonTriggeringExamples: [
            // A VM label and a resource label may share a name in any case: they are looked up separately.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "green"], chineseWall: ["SystemManagement", "green"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "green"]),
                        ExamplePolicy.vm("green", ste: ["green"], chineseWall: ["green"]),
                    ],
                    resources: [ExamplePolicy.resource("GREEN", "green")]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        for component in PolicyLintContext.Component.allCases {
            guard let declared = context.declaredTypes(component) else { continue }
            var first: [String: (String, SourceLocation?)] = [:]
            for (index, type) in declared.types.enumerated() {
                let location = index < declared.locations.count ? declared.locations[index] : nil
                let key = type.lowercased()
                if let (earlier, earlierLocation) = first[key] {
                    report(kind: "type", type, earlier, at: location, earlierLocation, into: &sink)
                } else {
                    first[key] = (type, location)
                }
            }
        }
        for labels in [context.policy.vmLabels, context.policy.resourceLabels] {
            var first: [String: Label] = [:]
            for label in labels {
                let key = label.name.lowercased()
                if let earlier = first[key] {
                    // Exact duplicates are compiler errors (E0109); only case variants are this rule's.
                    guard earlier.name != label.name else { continue }
                    report(kind: label.kindDescription, label.name, earlier.name, at: label.location, earlier.location, into: &sink)
                } else {
                    first[key] = label
                }
            }
        }
    }

    private func report(
        kind: String, _ name: String, _ earlier: String, at location: SourceLocation?, _ earlierLocation: SourceLocation?,
        into sink: inout FindingSink
    ) {
        sink.report(
            "\(kind) '\(name)' differs from '\(earlier)' only in case", at: location,
            hint: "the compilers treat them as unrelated names, but a reader (or a case-insensitive file system holding "
                + "per-label files) will not; rename one",
            notes: [DiagnosticNote("'\(earlier)' is here", at: earlierLocation)])
    }
}
