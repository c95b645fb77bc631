import PolicyDiff
import PolicyModel
import TestSupport
import Testing

/// share, resource, block and run, each gained and lost (spec §2.2, §2.3), and a brute-force
/// cross-check of the indexed computation on random policies.
@Suite struct EffectTests {
    typealias B = PolicyBuilder
    static let dom0 = B.vm("dom0", ste: ["A", "B", "C"], cw: ["dom0"])

    @Test func shareGainedAndLost() {
        let old = B.policy(vms: [Self.dom0, B.vm("x", ste: ["A"]), B.vm("y", ste: ["B"]), B.vm("z", ste: ["C"])])
        let new = B.policy(vms: [Self.dom0, B.vm("x", ste: ["A", "B"]), B.vm("y", ste: ["B"]), B.vm("z", ste: ["A"])])
        let effects = B.diff(old, new).effects
        #expect(strings(effects.shareGained) == ["[x, y]", "[x, z]"])
        #expect(effects.shareLost.isEmpty)
        let back = B.diff(new, old).effects
        #expect(strings(back.shareLost) == ["[x, y]", "[x, z]"])
        #expect(back.shareGained.isEmpty)
    }

    @Test func sharePairsAreSortedByCodePoint() {
        let old = B.policy(vms: [Self.dom0])
        let new = B.policy(vms: [Self.dom0, B.vm("b", ste: ["A"]), B.vm("_", ste: ["A"]), B.vm("Z", ste: ["A"])])
        // Each pair is written smaller first, and the pairs are in order.
        #expect(strings(B.diff(old, new).effects.shareGained) == ["[Z, _]", "[Z, b]", "[Z, dom0]", "[_, b]", "[_, dom0]", "[b, dom0]"])
    }

    @Test func resourceGainedAndLost() {
        let vms = [Self.dom0, B.vm("x", ste: ["A"])]
        let old = B.policy(vms: vms, resources: [B.res("disk", ste: ["A"]), B.res("net", ste: ["B"])])
        let new = B.policy(vms: vms, resources: [B.res("disk", ste: ["C"]), B.res("net", ste: ["A"])])
        let effects = B.diff(old, new).effects
        #expect(strings(effects.resourceGained) == ["[x, net]"])
        #expect(strings(effects.resourceLost) == ["[x, disk]"])
        // dom0 has all three types: it keeps both resources.
        #expect(!effects.resourceGained.contains { $0.first == "dom0" })
    }

    @Test func blockGainedAndLost() {
        let vms = [Self.dom0, B.vm("a", ste: ["A"], cw: ["X"]), B.vm("b", ste: ["B"], cw: ["Y"]), B.vm("c", ste: ["C"], cw: ["Z"])]
        let old = B.policy(conflictSets: [ConflictSet(name: "s", types: ["X", "Y"])], vms: vms)
        let new = B.policy(conflictSets: [ConflictSet(name: "s", types: ["X", "Z"])], vms: vms)
        let effects = B.diff(old, new).effects
        // While a runs, c cannot start (and the reverse); a and b no longer block each other.
        #expect(strings(effects.blockGained) == ["[a, c]", "[c, a]"])
        #expect(strings(effects.blockLost) == ["[a, b]", "[b, a]"])
        #expect(effects.widensAccess)
    }

    @Test func blockIsOrderedAndIgnoresOwnTypes() {
        // ab holds both types of the set: it adds nothing for them, so it blocks neither a nor b, but
        // a running a keeps ab from starting (ab holds Y, which a does not).
        let old = B.policy(conflictSets: [ConflictSet(name: "s", types: ["X", "Y"])], vms: [Self.dom0, B.vm("a", ste: ["A"], cw: ["X"])])
        let new = B.policy(
            conflictSets: [ConflictSet(name: "s", types: ["X", "Y"])],
            vms: [Self.dom0, B.vm("a", ste: ["A"], cw: ["X"]), B.vm("ab", ste: ["A"], cw: ["X", "Y"])])
        #expect(strings(B.diff(old, new).effects.blockGained) == ["[a, ab]"])
    }

    @Test func runGainedAndLost() {
        let old = B.policy(
            ste: ["A", "B", "C", "D"],
            vms: [B.vm("dom0", ste: ["A", "B"], cw: ["dom0"]), B.vm("x", ste: ["A"]), B.vm("y", ste: ["C"]), B.vm("none", ste: [])])
        let new = B.policy(
            ste: ["A", "B", "C", "D"],
            vms: [B.vm("dom0", ste: ["A", "C"], cw: ["dom0"]), B.vm("x", ste: ["A"]), B.vm("y", ste: ["C"]), B.vm("none", ste: [])])
        let effects = B.diff(old, new).effects
        #expect(effects.runGained == ["y"])
        #expect(effects.runLost.isEmpty)
        #expect(B.diff(new, old).effects.runLost == ["y"])
        // A label with no STE type fails the sharing half of the test and never runs.
        #expect(!effects.runGained.contains("none"))
        // Xen 3.1 and earlier have no authorization test.
        #expect(B.diff(old, new, target: .xen31, generation: .xen31).effects.runGained.isEmpty)
    }

    @Test func addedAndRemovedLabelsGainAndLoseTheirPairs() {
        let old = B.policy(vms: [Self.dom0, B.vm("gone", ste: ["A"])], resources: [B.res("disk", ste: ["A"])])
        let new = B.policy(vms: [Self.dom0, B.vm("fresh", ste: ["B"])], resources: [B.res("disk", ste: ["A"])])
        let effects = B.diff(old, new).effects
        #expect(strings(effects.shareGained) == ["[dom0, fresh]"])
        #expect(strings(effects.shareLost) == ["[dom0, gone]"])
        #expect(strings(effects.resourceLost) == ["[gone, disk]"])
        #expect(effects.runGained == ["fresh"] && effects.runLost == ["gone"])
    }

    @Test func oldNamesAreMappedThroughRenames() {
        let old = B.policy(vms: [Self.dom0, B.vm("green", ste: ["A"]), B.vm("red", ste: ["B"])])
        let new = B.policy(vms: [Self.dom0, B.vm("GREEN", ste: ["A", "B"], from: "green"), B.vm("red", ste: ["B"])])
        let effects = B.diff(old, new).effects
        // Only the new type counts; GREEN's pair with dom0 is not "gained".
        #expect(strings(effects.shareGained) == ["[GREEN, red]"])
        #expect(effects.shareLost.isEmpty && effects.runGained.isEmpty && effects.runLost.isEmpty)
    }

    @Test func withoutSTEEverythingMayShare() {
        // Xen 3.0.x/3.1 policies may leave STE out; the hypervisor then restricts no sharing.
        let labels = [B.vm("dom0", ste: nil, cw: ["dom0"]), B.vm("x", ste: nil, cw: ["X"]), B.vm("y", ste: nil, cw: ["X"])]
        var chineseWallOnly = B.policy(vms: labels, resources: [B.res("disk", ste: nil)])
        chineseWallOnly.simpleTypeEnforcement = nil
        let withSTE = B.policy(
            vms: [B.vm("dom0", ste: ["A"], cw: ["dom0"]), B.vm("x", ste: ["A"], cw: ["X"]), B.vm("y", ste: ["B"], cw: ["X"])],
            resources: [B.res("disk", ste: ["B"])])
        let effects = B.diff(withSTE, chineseWallOnly, target: .xen31, generation: .xen31).effects
        #expect(strings(effects.shareGained) == ["[dom0, y]", "[x, y]"])
        #expect(strings(effects.resourceGained) == ["[dom0, disk]", "[x, disk]"])
        #expect(effects.widensAccess)
    }

    // MARK: Cross-check

    /// The effects by definition, label × label.
    static func bruteForce(_ old: Policy, _ new: Policy) -> PolicyEffects {
        func relations(_ policy: Policy) -> (
            share: Set<PolicyEffects.Pair>, resource: Set<PolicyEffects.Pair>, block: Set<PolicyEffects.Pair>, run: Set<String>
        ) {
            var share: Set<PolicyEffects.Pair> = []
            var resource: Set<PolicyEffects.Pair> = []
            var block: Set<PolicyEffects.Pair> = []
            var run: Set<String> = []
            let bootstrap = Set(policy.vmLabel(named: policy.bootstrapLabel ?? "")?.steTypes ?? [])
            for a in policy.vmLabels {
                let steA = Set(a.steTypes ?? [])
                let cwA = Set(a.chineseWallTypes ?? [])
                if !steA.isEmpty && steA.isSubset(of: bootstrap) && policy.vmLabel(named: policy.bootstrapLabel ?? "") != nil {
                    run.insert(a.name)
                }
                for r in policy.resourceLabels where !steA.isDisjoint(with: r.steTypes ?? []) { resource.insert(.init(a.name, r.name)) }
                for b in policy.vmLabels where b.name != a.name {
                    if !steA.isDisjoint(with: b.steTypes ?? []) {
                        let (x, y) = a.name.utf8.lexicographicallyPrecedes(b.name.utf8) ? (a.name, b.name) : (b.name, a.name)
                        share.insert(.init(x, y))
                    }
                    let cwB = Set(b.chineseWallTypes ?? [])
                    for set in policy.chineseWall?.conflictSets ?? [] where !cwA.isDisjoint(with: set.types) {
                        if !cwB.isDisjoint(with: Set(set.types).subtracting(cwA)) { block.insert(.init(a.name, b.name)) }
                    }
                }
            }
            return (share, resource, block, run)
        }
        let a = relations(old)
        let b = relations(new)
        func sorted(_ pairs: Set<PolicyEffects.Pair>) -> [PolicyEffects.Pair] {
            pairs.sorted {
                ($0.first.utf8.lexicographicallyPrecedes($1.first.utf8))
                    || ($0.first == $1.first && $0.second.utf8.lexicographicallyPrecedes($1.second.utf8))
            }
        }
        var effects = PolicyEffects()
        effects.shareGained = sorted(b.share.subtracting(a.share))
        effects.shareLost = sorted(a.share.subtracting(b.share))
        effects.resourceGained = sorted(b.resource.subtracting(a.resource))
        effects.resourceLost = sorted(a.resource.subtracting(b.resource))
        effects.blockGained = sorted(b.block.subtracting(a.block))
        effects.blockLost = sorted(a.block.subtracting(b.block))
        effects.runGained = b.run.subtracting(a.run).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        effects.runLost = a.run.subtracting(b.run).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return effects
    }

    /// A small random policy over few names and types, so that pairs collide often.
    static func random(_ generator: inout SplitMix64) -> Policy {
        let ste = ["A", "B", "C", "D", "E"]
        let cw = ["P", "Q", "R", "S"]
        func subset(_ items: [String]) -> [String] { items.filter { _ in generator.next() % 3 == 0 } }
        let names = ["dom0", "a", "b", "c", "d", "e", "f", "g", "Z", "_x"].filter { $0 == "dom0" || generator.next() % 4 != 0 }
        // A missing types element (nil) and an empty one number differently for Xen 3.0.4/3.1.
        let vms = names.map { B.vm($0, ste: subset(ste), cw: generator.next() % 5 == 0 ? nil : subset(cw)) }
        let resources = ["r1", "r2", "r3"].filter { _ in generator.next() % 2 == 0 }.map { B.res($0, ste: subset(ste)) }
        let sets = (0..<Int(generator.next() % 3)).map { ConflictSet(name: "s\($0)", types: subset(cw)) }.filter { !$0.types.isEmpty }
        return B.policy(ste: ste, cw: cw, conflictSets: sets, bootstrap: "dom0", vms: vms, resources: resources)
    }

    @Test func indexedEffectsEqualTheDefinition() {
        var generator = SplitMix64(state: 42)
        for _ in 0..<300 {
            let old = Self.random(&generator)
            let new = generator.next() % 5 == 0 ? old : Self.random(&generator)
            let expected = Self.bruteForce(old, new)
            let actual = B.diff(old, new).effects
            #expect(actual == expected)
            if actual != expected { break }
        }
    }
}
