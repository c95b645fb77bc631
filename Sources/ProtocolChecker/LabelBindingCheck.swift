import PolicyDiagnostics
import PolicyModel
import ProtocolModel

/// Checks protocols' `labels` bindings against an ACM policy: every label named must be a VM label
/// of the policy, and every permitted (frontend, backend) label pair must share an STE type, or the
/// hypervisor would refuse the grant mappings and event channels the protocol needs.
public enum LabelBindingCheck {
    public static func check(_ definitions: [ProtocolDefinition], against policy: Policy) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let vmLabels = Dictionary(policy.vmLabels.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let policyName = policy.name ?? "the policy"
        for definition in definitions {
            let location = SourceLocation(file: definition.origin.file, line: definition.origin.line, column: definition.origin.column)
            var byRole: [String: [String]] = [:]
            for binding in definition.labels {
                let role = definition.roles[binding.role].name
                for label in binding.labels where vmLabels[label] == nil {
                    diagnostics.append(
                        .error(
                            "E0750",
                            "protocol '\(definition.name)' lets VM label '\(label)' act as \(role), but '\(policyName)' has no such VM label",
                            at: location, hint: NameSuggestion.hint(for: label, in: vmLabels.keys)))
                }
                byRole[role, default: []] += binding.labels.filter { vmLabels[$0] != nil }
            }
            guard let frontends = byRole["frontend"], let backends = byRole["backend"] else { continue }
            for frontend in frontends {
                let frontendTypes = Set(vmLabels[frontend]?.steTypes ?? [])
                for backend in backends where frontendTypes.isDisjoint(with: vmLabels[backend]?.steTypes ?? []) {
                    diagnostics.append(
                        .error(
                            "E0751",
                            "protocol '\(definition.name)' pairs frontend label '\(frontend)' with backend label '\(backend)', which share no STE type",
                            at: location,
                            hint:
                                "the hypervisor refuses grant mappings and event channels between domains without a common STE type, so this binding could never connect"
                        ))
                }
            }
        }
        return diagnostics
    }
}
