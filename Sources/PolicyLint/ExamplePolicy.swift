/// Builds the small policies of the rules' examples. A name written with a leading `↓` puts the
/// expected-finding marker before the element it produces (the label, or the `Type`).
enum ExamplePolicy {
    /// A policy document: Xen 3.2+ (G3b/G4) with a `version`; without one, Xen 3.0.4/3.1 (G2/G3a).
    static func policy(
        ste: [String], chineseWall: [String], conflicts: [String] = [], vms: [String], resources: [String] = [],
        bootstrap: String = "SystemManagement", name: String = "example", version: String? = "1.0"
    ) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<SecurityPolicyDefinition xmlns="http://www.ibm.com">"#,
            "  <PolicyHeader><PolicyName>\(name)</PolicyName>\(version.map { "<Version>\($0)</Version>" } ?? "")</PolicyHeader>",
            "  <SimpleTypeEnforcement><SimpleTypeEnforcementTypes>\(types(ste))</SimpleTypeEnforcementTypes></SimpleTypeEnforcement>",
            "  <ChineseWall>",
            "    <ChineseWallTypes>\(types(chineseWall))</ChineseWallTypes>",
        ]
        if !conflicts.isEmpty {
            lines.append("    <ConflictSets>")
            lines += conflicts.map { "      " + $0 }
            lines.append("    </ConflictSets>")
        }
        lines += ["  </ChineseWall>", "  <SecurityLabelTemplate>", "    <SubjectLabels bootstrap=\"\(bootstrap)\">"]
        lines += vms.map { "      " + $0 }
        lines.append("    </SubjectLabels>")
        if !resources.isEmpty {
            lines.append("    <ObjectLabels>")
            lines += resources.map { "      " + $0 }
            lines.append("    </ObjectLabels>")
        }
        lines += ["  </SecurityLabelTemplate>", "</SecurityPolicyDefinition>", ""]
        return lines.joined(separator: "\n")
    }

    /// `<Type>` elements, each marked if its name starts with `↓`.
    static func types(_ names: [String]) -> String {
        names.map { name in
            name.hasPrefix("↓") ? "↓<Type>\(name.dropFirst())</Type>" : "<Type>\(name)</Type>"
        }.joined()
    }

    /// A `Conflict` element.
    static func conflict(_ name: String, _ types: [String]) -> String {
        let (marker, bare) = split(name)
        return "\(marker)<Conflict name=\"\(bare)\">\(self.types(types))</Conflict>"
    }

    /// A `VirtualMachineLabel`; nil type lists leave the types element out.
    static func vm(_ name: String, ste: [String]?, chineseWall: [String]?) -> String {
        let (marker, bare) = split(name)
        var text = "\(marker)<VirtualMachineLabel><Name>\(bare)</Name>"
        if let ste { text += "<SimpleTypeEnforcementTypes>\(types(ste))</SimpleTypeEnforcementTypes>" }
        if let chineseWall { text += "<ChineseWallTypes>\(types(chineseWall))</ChineseWallTypes>" }
        return text + "</VirtualMachineLabel>"
    }

    /// A `ResourceLabel` with one STE type (all Xen 3.2+ allows).
    static func resource(_ name: String, _ type: String) -> String {
        let (marker, bare) = split(name)
        return
            "\(marker)<ResourceLabel><Name>\(bare)</Name><SimpleTypeEnforcementTypes>\(types([type]))</SimpleTypeEnforcementTypes></ResourceLabel>"
    }

    /// The usual bootstrap label: every STE type given, Chinese Wall type `SystemManagement`.
    static func bootstrap(ste: [String]) -> String {
        vm("SystemManagement", ste: ste, chineseWall: ["SystemManagement"])
    }

    private static func split(_ name: String) -> (String, String) {
        name.hasPrefix("↓") ? ("↓", String(name.dropFirst())) : ("", name)
    }
}
