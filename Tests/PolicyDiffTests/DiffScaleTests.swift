import Foundation
import PolicyDiff
import PolicyModel
import TestSupport
import Testing

/// Effects are computed through indexes: diffing 10,000-label policies must not cost label × label.
@Suite struct DiffScaleTests {
    /// A policy shaped like `Scripts/generate-synthetic-policy.py`: the bootstrap label holds every STE
    /// type, the others 1-5 STE types and 1-2 Chinese Wall types, a tenth as many resources.
    static func synthetic(labels: Int, types: Int, seed: UInt64) -> Policy {
        var generator = SplitMix64(state: seed)
        let ste = ["SystemManagement"] + (1..<types).map { "ste_\($0)" }
        let cw = ["SystemManagement"] + (1..<max(2, types / 20)).map { "cw_\($0)" }
        func pick(_ items: ArraySlice<String>, _ count: Int) -> [String] {
            (0..<count).map { _ in items[items.startIndex + Int(generator.next() % UInt64(items.count))] }
        }
        var vms = [PolicyBuilder.vm("SystemManagement", ste: ste, cw: ["SystemManagement"])]
        for index in 1..<labels {
            vms.append(
                PolicyBuilder.vm(
                    "vm_\(index)", ste: pick(ste.dropFirst(), 1 + Int(generator.next() % 5)),
                    cw: pick(cw.dropFirst(), 1 + Int(generator.next() % 2))))
        }
        let resources = (1...max(1, labels / 10)).map { PolicyBuilder.res("res_\($0)", ste: pick(ste.dropFirst(), 1)) }
        let sets = (1...10).map {
            ConflictSet(name: "conflict_\($0)", types: Array(Set(pick(cw.dropFirst(), 2 + Int(generator.next() % 4)))))
        }
        return PolicyBuilder.policy(
            name: "synthetic", ste: ste, cw: cw, conflictSets: sets, bootstrap: "SystemManagement", vms: vms, resources: resources)
    }

    static let old = synthetic(labels: 10_000, types: 1_000, seed: 1)

    @Test func aSmallChangeToALargePolicyIsCheap() {
        var new = Self.old
        new.vmLabels[17].steTypes = ["ste_1", "ste_2"]
        new.vmLabels[4711].chineseWallTypes = ["cw_3"]
        new.vmLabels.remove(at: 999)
        new.resourceLabels[5].steTypes = ["ste_3"]
        new.chineseWall!.conflictSets[0].types.append("cw_1")
        let start = ContinuousClock.now
        let report = PolicyBuilder.diff(Self.old, new)
        let elapsed = ContinuousClock.now - start
        #expect(!report.effects.shareGained.isEmpty)
        // A release build takes about 0.1 s (docs/diff.md); a debug build is many times slower, and
        // label × label (10^8 pairs) would take minutes even in release.
        #expect(elapsed < .seconds(120), "\(elapsed)")  // catches label x label only; speed is in docs/benchmarks.md
    }
}
