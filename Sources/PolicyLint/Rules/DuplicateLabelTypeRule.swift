import PolicyDiagnostics

/// `duplicate-label-type`: a label lists the same type twice (fixable).
public struct DuplicateLabelTypeRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "duplicate-label-type", category: .redundancy, defaultSeverity: .warning, subject: .policy,
        summary: "a label listing the same type twice", isFixable: true,
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red", "↓Red"], chineseWall: ["Red"]),
                    ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Red"], chineseWall: ["SystemManagement", "Red"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "Red"]),
                        ExamplePolicy.vm("Red", ste: ["Red"], chineseWall: ["Red"]),
                    ]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        for label in context.labels {
            for component in PolicyLintContext.Component.allCases {
                var first: [String: SourceLocation] = [:]
                for element in context.typeElements(of: label, component) where !element.text.isEmpty {
                    guard let earlier = first[element.text] else {
                        first[element.text] = element.location
                        continue
                    }
                    // The type is set once in the label's ssid row however often it is listed, so deleting the
                    // repetition leaves every blob as it was (bar the XML hash of Xen 3.3-4.1 blobs).
                    let fix = context.sources[element.location.file]
                        .flatMap { $0.removalRange(ofLeafElementAt: element.location, qualifiedName: element.qualifiedName) }
                        .map { range in
                            Fix(
                                summary: "removed the repeated type '\(element.text)' from \(label.kindDescription) '\(label.name)'",
                                edits: [TextEdit(file: element.location.file, range: range, replacement: "")])
                        }
                    sink.report(
                        "type '\(element.text)' is listed twice in \(label.kindDescription) '\(label.name)'", at: element.location,
                        hint: "harmless, since a type is set once, but it suggests a typo for another type; --fix deletes it",
                        notes: [DiagnosticNote("first listed here", at: earlier)], fix: fix)
                }
            }
        }
    }
}
