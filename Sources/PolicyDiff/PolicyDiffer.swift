import PolicyDiagnostics
import PolicyEmitter
import PolicyModel

/// Compares two checked policies: structural changes matched by name, the ssidrefs of the target,
/// the effects on access (spec §2.2-2.3), and whether NEW is a valid update of OLD (spec §2.7).
///
/// Usage:
///
/// ```swift
/// let report = PolicyDiffer(target: .xen41).diff(
///     old: .init(policy: old, displayName: "old.xml", generation: .xen41),
///     new: .init(policy: new, displayName: "new.xml", generation: .xen41))
/// print(DiffTextRenderer().render(report))
/// ```
public struct PolicyDiffer: Sendable {
    /// One side of the comparison.
    public struct Input: Sendable {
        public var policy: Policy
        /// The input as the user named it, used where an element has no location of its own.
        public var displayName: String
        /// The generation the input was written in (named by its newest target).
        public var generation: Target
        /// Whether the policy was reconstructed from a blob and its map: conflict set names are
        /// then generated (sets match by types only) and FromPolicy is unknown.
        public var isBlob: Bool

        public init(policy: Policy, displayName: String, generation: Target, isBlob: Bool = false) {
            self.policy = policy
            self.displayName = displayName
            self.generation = generation
            self.isBlob = isBlob
        }
    }

    /// The target whose numbering gives the ssidrefs and whose hypervisor's rules apply.
    public var target: Target

    public init(target: Target) {
        self.target = target
    }

    /// Compares `old` with `new`.
    public func diff(old: Input, new: Input) -> PolicyDiffReport {
        let vmLabels = LabelCorrespondence(
            old: old.policy.vmLabels, new: new.policy.vmLabels, kind: "VM", newFile: new.displayName)
        let resourceLabels = LabelCorrespondence(
            old: old.policy.resourceLabels, new: new.policy.resourceLabels, kind: "resource", newFile: new.displayName)

        var changes = StructuralComparison(old: old, new: new, vmLabels: vmLabels, resourceLabels: resourceLabels).changes()
        let oldCompiled = PolicyEmitter.compile(SsidrefComparison.numberingSkeleton(of: old.policy, for: target), for: target)
        let newCompiled = PolicyEmitter.compile(SsidrefComparison.numberingSkeleton(of: new.policy, for: target), for: target)
        changes += SsidrefComparison(oldMap: oldCompiled.map, newMap: newCompiled.map).changes(
            vmLabels: vmLabels, resourceLabels: resourceLabels)
        changes.sort(by: PolicyChange.precedes)

        let effects = EffectAnalysis(old: old.policy, new: new.policy, vmLabels: vmLabels, resourceLabels: resourceLabels)
            .effects(authorization: target.usesXendNumbering)

        // Update findings only make sense for an update: identical policies need none.
        var diagnostics: [Diagnostic] = []
        if !changes.isEmpty || !effects.isEmpty {
            diagnostics += vmLabels.findings + resourceLabels.findings
            diagnostics += UpdateValidity(
                old: old, new: new, target: target, oldBinary: oldCompiled.binary, newBinary: newCompiled.binary
            ).findings(removedVMLabels: vmLabels.removed.map { vmLabels.oldLabels[$0].name }.sorted(by: codePointPrecedes))
        }
        return PolicyDiffReport(
            old: Self.side(old), new: Self.side(new), target: target, changes: changes, effects: effects, diagnostics: diagnostics)
    }

    private static func side(_ input: Input) -> PolicyDiffReport.Side {
        PolicyDiffReport.Side(
            displayName: input.displayName, generation: input.generation, policyName: input.policy.name,
            version: input.policy.header.versionText ?? input.policy.header.version?.description, isBlob: input.isBlob)
    }
}
