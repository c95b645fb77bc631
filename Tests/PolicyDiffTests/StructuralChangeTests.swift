import PolicyDiff
import PolicyModel
import Testing

/// One test per change category and kind: elements are matched by name, types compared as sets.
@Suite struct StructuralChangeTests {
    typealias B = PolicyBuilder
    static let dom0 = B.vm("dom0", ste: ["A", "B"], cw: ["dom0"])

    @Test func headerNameVersionAndFromPolicy() {
        let old = B.policy(name: "p", version: "1.0", vms: [Self.dom0])
        let new = B.policy(name: "q", version: "1.1", from: ("p", "1.0"), vms: [Self.dom0])
        let report = B.diff(old, new)
        #expect(report.summary(.header) == ["added from_policy", "changed name", "changed version"])
        let version = report.changes.first { $0.name == "version" }
        #expect(version?.oldValue == .text("1.0") && version?.newValue == .text("1.1"))
        // The same version written differently is no change (xend orders versions numerically).
        #expect(B.diff(old, B.policy(name: "p", version: "1.00", vms: [Self.dom0])).changes.isEmpty)
    }

    @Test func declaredTypes() {
        let old = B.policy(ste: ["A", "B", "Old"], cw: ["dom0", "X"], vms: [Self.dom0])
        let new = B.policy(ste: ["New", "B", "A"], cw: ["Y", "dom0"], vms: [Self.dom0])
        let report = B.diff(old, new)
        #expect(report.summary(.steType) == ["added New", "removed Old"])
        #expect(report.summary(.chineseWallType) == ["removed X", "added Y"])
    }

    @Test func conflictSetsMatchByName() {
        let vms = [Self.dom0, B.vm("a", ste: ["A"], cw: ["X"]), B.vm("b", ste: ["B"], cw: ["Y", "Z"])]
        let old = B.policy(
            cw: ["dom0", "X", "Y", "Z"],
            conflictSets: [
                ConflictSet(name: "keep", types: ["X", "Y"]), ConflictSet(name: "grow", types: ["X", "Y"]),
                ConflictSet(name: "gone", types: ["Y", "Z"]), ConflictSet(name: "before", types: ["X", "Z"]),
            ], vms: vms)
        let new = B.policy(
            cw: ["dom0", "X", "Y", "Z"],
            conflictSets: [
                ConflictSet(name: "after", types: ["Z", "X"]), ConflictSet(name: "keep", types: ["Y", "X"]),
                ConflictSet(name: "grow", types: ["X", "Y", "Z"]), ConflictSet(name: "fresh", types: ["dom0", "X"]),
            ], vms: vms)
        let report = B.diff(old, new)
        #expect(report.summary(.conflictSet) == ["renamed before->after", "added fresh", "removed gone", "types_changed grow"])
        let grow = report.changes.first { $0.name == "grow" }
        #expect(grow?.oldValue == .types(["X", "Y"]) && grow?.newValue == .types(["X", "Y", "Z"]))
    }

    @Test func conflictSetNamesOfBlobsAreIgnored() {
        let vms = [Self.dom0, B.vm("a", ste: ["A"], cw: ["X", "Y"])]
        let old = B.policy(conflictSets: [ConflictSet(name: "conflict-001", types: ["X", "Y"])], vms: vms)
        let new = B.policy(conflictSets: [ConflictSet(name: "RealName", types: ["Y", "X"])], vms: vms)
        #expect(B.diff(old, new, isBlob: true).summary(.conflictSet).isEmpty)
        #expect(B.diff(old, new).summary(.conflictSet) == ["renamed conflict-001->RealName"])
    }

    @Test func vmLabels() {
        let old = B.policy(
            vms: [Self.dom0, B.vm("same", ste: ["A"]), B.vm("retyped", ste: ["A"], cw: ["X"]), B.vm("gone", ste: ["B"])])
        let new = B.policy(
            vms: [
                B.vm("retyped", ste: ["B"], cw: ["X"]), B.vm("fresh", ste: ["A", "B"]), B.vm("same", ste: ["A", "A"]), Self.dom0,
            ])
        let report = B.diff(old, new)
        #expect(report.summary(.vmLabel) == ["added fresh", "removed gone", "types_changed retyped"])
        let retyped = report.changes.first { $0.name == "retyped" }
        #expect(retyped?.oldValue == .labelTypes(ste: ["A"], chineseWall: ["X"]))
        #expect(retyped?.newValue == .labelTypes(ste: ["B"], chineseWall: ["X"]))
    }

    @Test func declaredRenameIsARenameNotRemoveAndAdd() {
        let old = B.policy(vms: [Self.dom0, B.vm("green", ste: ["A"])], resources: [B.res("disk", ste: ["A"])])
        let new = B.policy(
            vms: [Self.dom0, B.vm("GREEN", ste: ["A"], from: "green")], resources: [B.res("DISK", ste: ["B"], from: "disk")])
        let report = B.diff(old, new)
        #expect(report.summary(.vmLabel) == ["renamed green->GREEN"])
        #expect(report.summary(.resourceLabel) == ["renamed disk->DISK", "types_changed DISK"])
        // The renamed label keeps its pairs: nothing gained or lost for it.
        #expect(report.effects.shareGained.isEmpty && report.effects.shareLost.isEmpty)
    }

    @Test func lookAlikeRenameIsHinted() {
        let old = B.policy(vms: [Self.dom0, B.vm("blue", ste: ["B"], cw: ["X"]), B.vm("other", ste: ["A"])])
        let new = B.policy(vms: [Self.dom0, B.vm("navy", ste: ["B"], cw: ["X"]), B.vm("else", ste: ["B"])])
        let report = B.diff(old, new)
        let navy = report.changes.first { $0.name == "navy" }
        #expect(navy?.kind == .added)
        #expect(navy?.hint?.contains("<Name from=\"blue\">") == true)
        #expect(report.changes.first { $0.name == "blue" }?.hint?.contains("'navy'") == true)
        // Different types: no hint.
        #expect(report.changes.first { $0.name == "else" }?.hint == nil)
        #expect(report.changes.first { $0.name == "other" }?.hint == nil)
    }

    @Test func resourceLabels() {
        let old = B.policy(vms: [Self.dom0], resources: [B.res("keep", ste: ["A"]), B.res("gone", ste: ["A"]), B.res("re", ste: ["A"])])
        let new = B.policy(vms: [Self.dom0], resources: [B.res("re", ste: ["B"]), B.res("keep", ste: ["A"]), B.res("fresh", ste: ["B"])])
        #expect(B.diff(old, new).summary(.resourceLabel) == ["added fresh", "removed gone", "types_changed re"])
    }

    @Test func bootstrapLabel() {
        let other = B.vm("other", ste: ["A"])
        let old = B.policy(bootstrap: "dom0", vms: [Self.dom0, other])
        let report = B.diff(old, B.policy(bootstrap: "other", vms: [Self.dom0, other]))
        #expect(report.summary(.bootstrap) == ["changed other"])
        // A renamed bootstrap label is the same bootstrap label.
        let renamed = B.policy(bootstrap: "Dom0", vms: [B.vm("Dom0", ste: ["A", "B"], cw: ["dom0"], from: "dom0"), other])
        #expect(B.diff(old, renamed).summary(.bootstrap).isEmpty)
    }

    @Test func changesAreSortedByCategoryThenCodePoint() {
        let old = B.policy(vms: [Self.dom0])
        let new = B.policy(vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("Z", ste: ["A"]), B.vm("_", ste: ["A"])])
        // Upper case < '_' < lower case in code point order.
        #expect(B.diff(old, new).summary(.vmLabel) == ["added Z", "added _", "added b"])
    }
}
