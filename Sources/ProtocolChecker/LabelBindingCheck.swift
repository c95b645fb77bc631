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
            // Each permitted label with where it was written, per role.
            var byRole: [String: [(label: String, location: SourceLocation)]] = [:]
            for binding in definition.labels {
                let role = definition.roles[binding.role].name
                for (label, origin) in zip(binding.labels, binding.origins) {
                    let location = SourceLocation(origin)
                    guard vmLabels[label] != nil else {
                        diagnostics.append(
                            .error(
                                "E0750",
                                "protocol '\(definition.name)' lets VM label '\(label)' act as \(role), but '\(policyName)' has no such VM label",
                                at: location, hint: NameSuggestion.hint(for: label, in: vmLabels.keys)))
                        continue
                    }
                    byRole[role, default: []].append((label, location))
                }
            }
            guard let frontends = byRole["frontend"], let backends = byRole["backend"] else { continue }
            for frontend in frontends {
                let frontendTypes = Set(vmLabels[frontend.label]?.steTypes ?? [])
                for backend in backends where frontendTypes.isDisjoint(with: vmLabels[backend.label]?.steTypes ?? []) {
                    var diagnostic = Diagnostic.error(
                        "E0751",
                        "protocol '\(definition.name)' pairs frontend label '\(frontend.label)' with backend label '\(backend.label)', which share no STE type",
                        at: frontend.location,
                        hint:
                            "the hypervisor refuses grant mappings and event channels between domains without a common STE type, so this binding could never connect"
                    )
                    diagnostic.notes.append(DiagnosticNote("backend label '\(backend.label)' is permitted here", at: backend.location))
                    diagnostics.append(diagnostic)
                }
            }
        }
        return diagnostics
    }
}

extension SourceLocation {
    init(_ origin: Origin) {
        self.init(file: origin.file, line: origin.line, column: origin.column)
    }
}
