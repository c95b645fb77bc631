import PolicyReader

/// `name-whitespace-or-colon`: a policy, label or type name with whitespace or ':'.
public struct NameWhitespaceOrColonRule: PolicyLintRule {
    public static let description = RuleDescription(
        id: "name-whitespace-or-colon", category: .naming, defaultSeverity: .warning, subject: .policy,
        summary: "a policy, label or type name containing whitespace or ':'",
        triggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Disk"], chineseWall: ["SystemManagement"],
                    vms: [ExamplePolicy.bootstrap(ste: ["SystemManagement", "Disk"])],
                    resources: [
                        "<ResourceLabel>↓<Name>Hard Drive (hda)</Name>"
                            + "<SimpleTypeEnforcementTypes><Type>Disk</Type></SimpleTypeEnforcementTypes></ResourceLabel>"
                    ])),
            // ':' is an error for Xen 3.2+ (label strings are 'ACM:policy:label'); older policies only get a warning.
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "↓web:frontend"], chineseWall: ["SystemManagement"],
                    vms: [
                        ExamplePolicy.bootstrap(ste: ["SystemManagement", "web:frontend"]),
                        "<VirtualMachineLabel>↓<Name>web:frontend</Name>"
                            + "<SimpleTypeEnforcementTypes><Type>web:frontend</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>",
                    ], version: nil)),
        ],
        nonTriggeringExamples: [
            RuleExample(
                ExamplePolicy.policy(
                    ste: ["SystemManagement", "Disk"], chineseWall: ["SystemManagement"],
                    vms: [ExamplePolicy.bootstrap(ste: ["SystemManagement", "Disk"])],
                    resources: [ExamplePolicy.resource("HardDrive(hda)", "Disk")]))
        ])

    public init() {}

    public func check(_ context: PolicyLintContext, into sink: inout FindingSink) {
        let ns = PolicyLintContext.namespace
        if let policyName = context.documents.first?.root.child("PolicyHeader", in: ns)?.child("PolicyName", in: ns) {
            check(policyName.text, "policy name", at: policyName, into: &sink)
        }
        for component in PolicyLintContext.Component.allCases {
            guard let declared = context.declaredTypes(component) else { continue }
            for location in declared.locations {
                guard let element = context.elements.element(at: location) else { continue }
                check(element.text, "type name", at: element, into: &sink)
            }
        }
        for label in context.labels {
            guard let name = context.nameElement(of: label) else { continue }
            check(label.name, "\(label.kindDescription) name", at: name, into: &sink)
            if let from = label.renamedFrom { check(from, "'from' label name", at: name, into: &sink) }
        }
    }

    private func check(_ name: String, _ kind: String, at element: XMLElement, into sink: inout FindingSink) {
        if name.contains(where: \.isWhitespace) {
            sink.report(
                "\(kind) '\(name)' contains whitespace", at: element.location,
                hint: "the .map file and xm's label lists are split on whitespace, so the Xen tools cannot look such a "
                    + "name up; leading and trailing spaces are part of the name too")
        }
        if name.contains(":") {
            sink.report(
                "\(kind) '\(name)' contains ':'", at: element.location,
                hint: "Xen 3.2+ writes labels as 'ACM:<policy>:<label>' and refuses such names; so does the Xen 3.1 boot "
                    + "parameter 'ssidref=…:ACM:<policy>'")
        }
    }
}
