import PolicyDiagnostics
import PolicyEmitter
import PolicyModel

/// Whether NEW can replace OLD on a running system, as xend and the hypervisor checked it
/// (spec §2.7). Every violation is a warning: the diff itself is sound, but loading NEW over OLD
/// would be refused.
struct UpdateValidity {
    let old: PolicyDiffer.Input
    let new: PolicyDiffer.Input
    let target: Target
    let oldBinary: BinaryPolicy
    let newBinary: BinaryPolicy

    /// The findings; the rename findings of the label correspondences are added by the caller.
    func findings(removedVMLabels: [String]) -> [Diagnostic] {
        var findings: [Diagnostic] = []
        let location = SourceLocation(file: new.displayName)
        let oldPolicy = old.policy
        let newPolicy = new.policy

        if oldBinary.primary.code != newBinary.primary.code || oldBinary.secondary.code != newBinary.secondary.code {
            findings.append(
                .warning(
                    "W0610",
                    "the policy components change from \(oldBinary.primary.mapName)/\(oldBinary.secondary.mapName) to \(newBinary.primary.mapName)/\(newBinary.secondary.mapName) (primary/secondary)",
                    at: location, hint: "the hypervisor keeps the components of its first policy until reboot; boot with the new policy"))
        }

        if target.usesXendNumbering {
            // xend let any policy replace its built-in DEFAULT policy, and `xm resetpolicy` the reverse.
            let checksVersions = oldPolicy.name != "DEFAULT" && newPolicy.name != "DEFAULT" && oldPolicy.header.versionText != nil
            if checksVersions, let oldName = oldPolicy.name, let oldVersion = oldPolicy.header.versionText {
                if let from = newPolicy.header.fromPolicy {
                    if from.name != oldName {
                        findings.append(
                            .warning(
                                "W0602", "FromPolicy names '\(from.name)', but the old policy is '\(oldName)'", at: location,
                                hint:
                                    "xend refuses the update (XSERR_VERSION_PREVENTS_UPDATE); write <PolicyName>\(oldName)</PolicyName> in FromPolicy"
                            ))
                    }
                    if from.versionText != oldVersion {
                        let same = from.version == oldPolicy.header.version
                        findings.append(
                            .warning(
                                "W0603", "FromPolicy names version '\(from.versionText)', but the old policy is version '\(oldVersion)'",
                                at: location,
                                hint: (same ? "xend compares the version text, not the numbers; " : "")
                                    + "write <Version>\(oldVersion)</Version> in FromPolicy"))
                    }
                } else if !new.isBlob {
                    findings.append(
                        .warning(
                            "W0601", "the new policy has no FromPolicy, so xend refuses it as an update of '\(oldName)' \(oldVersion)",
                            at: location,
                            hint:
                                "add <FromPolicy><PolicyName>\(oldName)</PolicyName><Version>\(oldVersion)</Version></FromPolicy> to the header"
                        ))
                }
                if let a = oldPolicy.header.version, let b = newPolicy.header.version, !(a < b) {
                    findings.append(
                        .warning(
                            "W0604",
                            "the version does not grow: \(newPolicy.header.versionText ?? b.description) is not greater than \(oldVersion)",
                            at: location, hint: "xend refuses the update (XSERR_VERSION_PREVENTS_UPDATE); raise Version"))
                }
            }
            if !removedVMLabels.isEmpty {
                let shown = removedVMLabels.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                let more = removedVMLabels.count > 5 ? " and \(removedVMLabels.count - 5) more" : ""
                findings.append(
                    Diagnostic(
                        .note, "N0601",
                        "the hypervisor refuses the update while a domain runs with a removed VM label (\(shown)\(more))",
                        at: location, hint: "ACM_SSIDREF_IN_USE; stop those domains first, or rename the label with <Name from=\"…\">"))
            }
        } else if target.hasPolicyName, let oldName = oldPolicy.name, let newName = newPolicy.name, oldName != newName,
            oldName != "DEFAULT"
        {
            findings.append(
                .warning(
                    "W0609", "the policy name changes from '\(oldName)' to '\(newName)'", at: location,
                    hint: "xm loadpolicy of Xen 3.0.3-3.1 replaces only a policy of the same name, or DEFAULT"))
        }
        return findings
    }
}
