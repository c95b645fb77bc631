import PolicyEmitter
import PolicyModel

/// Prints a `Policy` as ACM XML of a target's generation, in the layout of Xen's example policies.
public enum PolicyPrinter {
    static let namespaceAttributes =
        #"xmlns="http://www.ibm.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#

    /// The XML text (and, for `xen-3.0.2`, the label template text).
    public static func print(_ policy: Policy, target: Target) -> Decompiler.Output {
        var out = Writer()
        out.line(0, #"<?xml version="1.0" encoding="UTF-8"?>"#)
        out.line(0, "<SecurityPolicyDefinition \(namespaceAttributes)>")
        if target == .xen302 {
            out.line(1, "<PolicyHeader>")
            out.element(2, "Name", policy.header.legacyName ?? "decompiled-security_policy")
            out.element(2, "Date", policy.header.date ?? "")
            out.line(1, "</PolicyHeader>")
        } else {
            out.line(1, "<PolicyHeader>")
            out.element(2, "PolicyName", policy.name ?? "")
            if let url = policy.header.policyURL { out.element(2, "PolicyUrl", url) }
            if let reference = policy.header.reference { out.element(2, "Reference", reference) }
            if let date = policy.header.date { out.element(2, "Date", date) }
            if let nameSpace = policy.header.nameSpaceURL { out.element(2, "NameSpaceUrl", nameSpace) }
            if target.hasVersion, let version = policy.header.versionText ?? policy.header.version?.description {
                out.element(2, "Version", version)
            }
            if target.hasVersion, let from = policy.header.fromPolicy {
                out.line(2, "<FromPolicy>")
                out.element(3, "PolicyName", from.name)
                out.element(3, "Version", from.versionText)
                out.line(2, "</FromPolicy>")
            }
            out.line(1, "</PolicyHeader>")
        }
        if let ste = policy.simpleTypeEnforcement {
            out.line(1, "<SimpleTypeEnforcement>")
            out.types(2, "SimpleTypeEnforcementTypes", ste.types)
            out.line(1, "</SimpleTypeEnforcement>")
        }
        if let chineseWall = policy.chineseWall {
            out.line(1, chineseWall.types.markedPrimary ? #"<ChineseWall priority="PrimaryPolicyComponent">"# : "<ChineseWall>")
            out.types(2, "ChineseWallTypes", chineseWall.types.types)
            if !chineseWall.conflictSets.isEmpty {
                out.line(2, "<ConflictSets>")
                for set in chineseWall.conflictSets {
                    out.line(3, set.name.map { "<Conflict name=\"\(escape($0))\">" } ?? "<Conflict>")
                    for type in set.types { out.element(4, "Type", type) }
                    out.line(3, "</Conflict>")
                }
                out.line(2, "</ConflictSets>")
            }
            out.line(1, "</ChineseWall>")
        }
        if target == .xen302 {
            out.line(0, "</SecurityPolicyDefinition>")
            var labels = Writer()
            labels.line(0, #"<?xml version="1.0" encoding="UTF-8"?>"#)
            labels.line(0, "<SecurityLabelTemplate \(namespaceAttributes)>")
            let header = policy.header.labelTemplate
            labels.line(1, "<LabelHeader>")
            labels.element(2, "Name", header?.name ?? "decompiled-security_label_template")
            labels.element(2, "Date", header?.date ?? "")
            labels.line(2, "<PolicyName>")
            labels.element(3, "Url", header?.policyURL ?? "")
            labels.element(3, "Reference", header?.reference ?? "")
            labels.line(2, "</PolicyName>")
            labels.line(1, "</LabelHeader>")
            labels.labels(1, policy, target: target)
            labels.line(0, "</SecurityLabelTemplate>")
            return Decompiler.Output(policyXML: out.text, labelTemplateXML: labels.text)
        }
        out.line(1, "<SecurityLabelTemplate>")
        out.labels(2, policy, target: target)
        out.line(1, "</SecurityLabelTemplate>")
        out.line(0, "</SecurityPolicyDefinition>")
        return Decompiler.Output(policyXML: out.text, labelTemplateXML: nil)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    private struct Writer {
        var text = ""

        mutating func line(_ depth: Int, _ content: String) {
            text += String(repeating: "  ", count: depth) + content + "\n"
        }

        mutating func element(_ depth: Int, _ name: String, _ value: String) {
            line(depth, "<\(name)>\(PolicyPrinter.escape(value))</\(name)>")
        }

        mutating func types(_ depth: Int, _ name: String, _ types: [String]) {
            line(depth, "<\(name)>")
            for type in types { element(depth + 1, "Type", type) }
            line(depth, "</\(name)>")
        }

        mutating func labels(_ depth: Int, _ policy: Policy, target: Target) {
            if !policy.vmLabels.isEmpty {
                line(depth, "<SubjectLabels bootstrap=\"\(PolicyPrinter.escape(policy.bootstrapLabel ?? ""))\">")
                for label in policy.vmLabels { self.label(depth + 1, "VirtualMachineLabel", label) }
                line(depth, "</SubjectLabels>")
            }
            if !policy.resourceLabels.isEmpty {
                line(depth, "<ObjectLabels>")
                for label in policy.resourceLabels { self.label(depth + 1, "ResourceLabel", label) }
                line(depth, "</ObjectLabels>")
            }
        }

        mutating func label(_ depth: Int, _ element: String, _ label: Label) {
            line(depth, "<\(element)>")
            let from = label.renamedFrom.map { " from=\"\(PolicyPrinter.escape($0))\"" } ?? ""
            line(depth + 1, "<Name\(from)>\(PolicyPrinter.escape(label.name))</Name>")
            if let ste = label.steTypes, !ste.isEmpty { types(depth + 1, "SimpleTypeEnforcementTypes", ste) }
            if let chineseWall = label.chineseWallTypes, !chineseWall.isEmpty { types(depth + 1, "ChineseWallTypes", chineseWall) }
            line(depth, "</\(element)>")
        }
    }
}
