import PolicyDiagnostics
import PolicyDiff
import PolicyModel
import Testing

/// Whether NEW is an update of OLD that xend would accept (spec §2.7); violations are findings.
@Suite struct UpdateValidityTests {
    typealias B = PolicyBuilder
    static let dom0 = B.vm("dom0", ste: ["A", "B"], cw: ["dom0"])
    static let old = B.policy(name: "p", version: "1.0", vms: [Self.dom0, B.vm("x", ste: ["A"])])

    /// NEW with one label added, so that there is a change to judge.
    static func new(name: String = "p", version: String = "1.1", from: (String, String)? = ("p", "1.0"), extra: [Label] = []) -> Policy {
        B.policy(name: name, version: version, from: from, vms: [Self.dom0, B.vm("x", ste: ["A"]), B.vm("y", ste: ["B"])] + extra)
    }

    @Test func aProperUpdateHasNoFindings() {
        #expect(B.diff(Self.old, Self.new()).diagnostics.isEmpty)
        // The new policy may carry another name (xm-test-update updates xm-test).
        #expect(B.diff(Self.old, Self.new(name: "q")).diagnostics.isEmpty)
    }

    @Test func fromPolicyMustNameTheOldPolicyAndVersion() {
        #expect(B.diff(Self.old, Self.new(from: nil)).codes == ["W0601"])
        #expect(B.diff(Self.old, Self.new(from: ("other", "1.0"))).codes == ["W0602"])
        let version = B.diff(Self.old, Self.new(from: ("p", "0.9")))
        #expect(version.codes == ["W0603"])
        // xend compared the version text.
        let text = B.diff(Self.old, Self.new(from: ("p", "1.00")))
        #expect(text.codes == ["W0603"])
        #expect(text.diagnostics.first?.hint?.contains("text") == true)
    }

    @Test func versionMustGrow() {
        #expect(B.diff(Self.old, Self.new(version: "1.0")).codes == ["W0604"])
        #expect(B.diff(Self.old, Self.new(version: "0.9")).codes == ["W0604"])
        #expect(B.diff(Self.old, Self.new(version: "2.0")).codes.isEmpty)
        // Minor versions compare as numbers: 1.10 > 1.9.
        let old = B.policy(name: "p", version: "1.9", vms: [Self.dom0])
        #expect(B.diff(old, Self.new(version: "1.10", from: ("p", "1.9"))).codes.isEmpty)
    }

    @Test func defaultPolicyIsReplacedWithoutChecks() {
        let defaultPolicy = B.policy(name: "DEFAULT", version: "1.0", vms: [Self.dom0])
        #expect(B.diff(defaultPolicy, Self.new(from: nil)).codes.isEmpty)
    }

    @Test func everyFromMustNameAnOldLabel() {
        let report = B.diff(Self.old, Self.new(extra: [B.vm("z", ste: ["A"], from: "nosuch")]))
        #expect(report.codes == ["W0605"])
        #expect(report.diagnostics.first?.message.contains("'nosuch'") == true)
    }

    @Test func renameRulesOfXend() {
        // A rename from a label the new policy still has does nothing.
        let ineffective = B.diff(Self.old, Self.new(extra: [B.vm("x2", ste: ["A"], from: "x")]))
        #expect(ineffective.codes == ["W0607"])
        #expect(ineffective.summary(.vmLabel) == ["added x2", "added y"])
        // Two labels renamed from one.
        let old = B.policy(name: "p", version: "1.0", vms: [Self.dom0, B.vm("x", ste: ["A"])])
        let twice = B.policy(
            name: "p", version: "1.1", from: ("p", "1.0"),
            vms: [Self.dom0, B.vm("x1", ste: ["A"], from: "x"), B.vm("x2", ste: ["A"], from: "x")])
        #expect(twice.vmLabels.count == 3)
        #expect(B.diff(old, twice).codes.contains("W0608"))
        // A rename onto a name the old policy also has: two old labels become one.
        let both = B.policy(name: "p", version: "1.0", vms: [Self.dom0, B.vm("x", ste: ["A"]), B.vm("w", ste: ["B"])])
        let merged = B.policy(name: "p", version: "1.1", from: ("p", "1.0"), vms: [Self.dom0, B.vm("x", ste: ["A"], from: "w")])
        #expect(B.diff(both, merged).codes.contains("W0606"))
    }

    @Test func removedVMLabelsBlockTheUpdateWhileInUse() {
        let new = B.policy(name: "p", version: "1.1", from: ("p", "1.0"), vms: [Self.dom0])
        let report = B.diff(Self.old, new)
        #expect(report.codes == ["N0601"])
        #expect(report.diagnostics.first?.severity == .note)
    }

    @Test func componentsCannotChangeUntilReboot() {
        let steOnly = Policy(
            name: "p", header: PolicyHeader(), simpleTypeEnforcement: TypeSet(types: ["A", "B"]), chineseWall: nil,
            bootstrapLabel: "dom0", vmLabels: [B.vm("dom0", ste: ["A", "B"], cw: nil)], resourceLabels: [])
        let old = B.policy(name: "p", version: nil, vms: [Self.dom0])
        #expect(B.diff(old, steOnly, target: .xen31, generation: .xen31).codes == ["W0610"])
    }

    @Test func olderReleasesReplaceOnlyAPolicyOfTheSameName() {
        let old = B.policy(name: "p", version: nil, vms: [Self.dom0])
        let new = B.policy(name: "q", version: nil, vms: [Self.dom0, B.vm("y", ste: ["A"])])
        #expect(B.diff(old, new, target: .xen304, generation: .xen304).codes == ["W0609"])
    }

    @Test func identicalPoliciesNeedNoUpdateChecks() {
        #expect(B.diff(Self.old, Self.old).diagnostics.isEmpty)
    }
}
