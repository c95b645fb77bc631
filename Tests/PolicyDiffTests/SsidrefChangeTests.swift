import PolicyEmitter
import PolicyModel
import TestSupport
import Testing

@testable import PolicyDiff

/// Which labels compile to another ssidref, per target numbering (docs/targets.md).
@Suite struct SsidrefChangeTests {
    typealias B = PolicyBuilder
    static let dom0 = B.vm("dom0", ste: ["A", "B"], cw: ["dom0"])

    func ssidrefs(_ report: PolicyDiffReport) -> [String] {
        report.changes.filter { $0.category == .ssidref }.map { change in
            guard case .ssidref(let a) = change.oldValue, case .ssidref(let b) = change.newValue else { return "?" }
            func hex(_ value: UInt32?) -> String { value.map { String($0, radix: 16) } ?? "none" }
            return "\(change.labelKind!) \(change.name) \(hex(a))->\(hex(b))"
        }
    }

    @Test func xendNumberingShiftsLabelsSortedAfterANewOne() {
        let old = B.policy(vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["B"])], resources: [B.res("r", ste: ["A"])])
        let new = B.policy(
            vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["B"]), B.vm("a", ste: ["A"])], resources: [B.res("r", ste: ["A"])])
        #expect(ssidrefs(B.diff(old, new, target: .xen41)) == ["VM b 20002->30003", "VM c 30003->40004", "RES r 40000->50000"])
        // secpol_xml2bin numbers in document order: appending a VM label moves only the resources.
        #expect(ssidrefs(B.diff(old, new, target: .xen31, generation: .xen31)) == ["RES r 40000->50000"])
    }

    @Test func reorderingMattersOnlyToDocumentOrderTargets() {
        let labels = [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["B"])]
        let old = B.policy(vms: labels)
        let new = B.policy(vms: labels.reversed())
        #expect(B.diff(old, new, target: .xen41).changes.isEmpty)
        #expect(B.diff(old, new, target: .xen32).changes.isEmpty)
        #expect(ssidrefs(B.diff(old, new, target: .xen31)) == ["VM b 20002->30003", "VM c 30003->20002"])
    }

    @Test func xen302SharesSsidsBetweenLabelsWithEqualTypes() {
        let old = B.policy(name: nil, version: nil, vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["A"])])
        let new = B.policy(name: nil, version: nil, vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["B"])])
        // c had b's STE row (ssid 2); with its own types it gets ssid 3. Their empty Chinese Wall rows
        // collapse onto DEFAULT (ssid 0).
        #expect(ssidrefs(B.diff(old, new, target: .xen302, generation: .xen302)) == ["VM c 20000->30000"])
    }

    @Test func renamedLabelsCompareOldWithNewNumber() {
        let old = B.policy(vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("c", ste: ["B"])])
        let new = B.policy(vms: [Self.dom0, B.vm("a", ste: ["A"], from: "b"), B.vm("c", ste: ["B"])])
        // b (ssid 2) becomes a, still ssid 2: no relabelling; c keeps 3.
        #expect(ssidrefs(B.diff(old, new)).isEmpty)
        let later = B.policy(vms: [Self.dom0, B.vm("d", ste: ["A"], from: "b"), B.vm("c", ste: ["B"])])
        let report = B.diff(old, later)
        #expect(ssidrefs(report) == ["VM c 30003->20002", "VM d 20002->30003"])
        #expect(report.changes.first { $0.category == .ssidref && $0.name == "d" }?.oldName == "b")
    }

    @Test func unlabeledTakesSsidZero() {
        let old = B.policy(vms: [Self.dom0, B.vm("x", ste: ["A"])])
        let new = B.policy(vms: [Self.dom0, B.vm("x", ste: ["A"]), B.vm("__UNLABELED__", ste: ["A"])])
        // __UNLABELED__ supplies ssid 0 and does not shift x.
        #expect(ssidrefs(B.diff(old, new)).isEmpty)
    }
}

/// The differ compiles a skeleton (types emptied) for every target but Xen 3.0.2; the label map must
/// be the one of the whole policy.
@Suite struct NumberingSkeletonTests {
    @Test(arguments: [Target.xen304, .xen31, .xen32, .xen41])
    func skeletonNumbersLikeThePolicy(_ target: Target) {
        var generator = SplitMix64(state: 7)
        for _ in 0..<100 {
            let policy = EffectTests.random(&generator)
            let whole = PolicyEmitter.compile(policy, for: target)
            let skeleton = PolicyEmitter.compile(SsidrefComparison.numberingSkeleton(of: policy, for: target), for: target)
            #expect(whole.map.chineseWall?.entries == skeleton.map.chineseWall?.entries)
            #expect(whole.map.ste?.entries == skeleton.map.ste?.entries)
            #expect(whole.map.primary == skeleton.map.primary && whole.map.secondary == skeleton.map.secondary)
        }
    }
}
