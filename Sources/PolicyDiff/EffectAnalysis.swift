import PolicyModel

/// Computes `PolicyEffects` (spec §2.2, §2.3) with indexes rather than label × label loops.
///
/// A pair's status depends only on the types of its two labels (and, for `block`, on the conflict
/// sets), so only pairs with at least one *affected* label can differ: one whose types differ
/// between the sides (or that exists on one side only), or, for `block`, that holds a type of a
/// conflict set present on one side only. For each affected label the neighbours on each side are
/// collected through type → holders indexes and compared. The cost is the size of the affected
/// labels' neighbourhoods, so a small change to a 10,000-label policy costs little and even a
/// complete rewrite costs about the number of pairs it reports.
struct EffectAnalysis {
    /// Label identities (names in NEW's namespace) and type names, numbered.
    private var vmNames: [String] = []
    private var vmIDs: [String: Int] = [:]
    private var resourceNames: [String] = []
    private var resourceIDs: [String: Int] = [:]
    private var steTypeIDs: [String: Int] = [:]
    private var chineseWallTypeIDs: [String: Int] = [:]

    /// One policy's labels and types as numbers, with the holder indexes.
    struct Side {
        /// Per VM identity: STE type ids (sorted, distinct), nil when the label is not on this side.
        var vmSTE: [[Int]?] = []
        /// Per VM identity: Chinese Wall type ids (sorted, distinct).
        var vmChineseWall: [[Int]?] = []
        var resourceSTE: [[Int]?] = []
        /// Per STE type: the VM identities holding it.
        var steHolders: [[Int]] = []
        /// Per STE type: the resource identities holding it.
        var steResourceHolders: [[Int]] = []
        /// Per Chinese Wall type: the VM identities holding it.
        var chineseWallHolders: [[Int]] = []
        /// Conflict sets as sorted, distinct Chinese Wall type ids.
        var conflictSets: [[Int]] = []
        /// Per Chinese Wall type: the conflict sets containing it.
        var setsOfType: [[Int]] = []
        /// The bootstrap label's STE types, if it is on this side.
        var bootstrapSTE: Set<Int>? = nil
    }

    private var old = Side()
    private var new = Side()

    init(
        old oldPolicy: Policy, new newPolicy: Policy, vmLabels: LabelCorrespondence, resourceLabels: LabelCorrespondence
    ) {
        // Identities: NEW's names first, then OLD's labels under their identity.
        for label in newPolicy.vmLabels { _ = Self.id(label.name, &vmNames, &vmIDs) }
        for name in vmLabels.oldIdentity.compactMap({ $0 }) { _ = Self.id(name, &vmNames, &vmIDs) }
        for label in newPolicy.resourceLabels { _ = Self.id(label.name, &resourceNames, &resourceIDs) }
        for name in resourceLabels.oldIdentity.compactMap({ $0 }) { _ = Self.id(name, &resourceNames, &resourceIDs) }
        old = side(oldPolicy, vmIdentity: vmLabels.oldIdentity, resourceIdentity: resourceLabels.oldIdentity)
        new = side(
            newPolicy, vmIdentity: newPolicy.vmLabels.map(\.name), resourceIdentity: newPolicy.resourceLabels.map(\.name))
        // Both sides index the same type numbering.
        old.pad(steTypes: steTypeIDs.count, chineseWallTypes: chineseWallTypeIDs.count, vms: vmNames.count, resources: resourceNames.count)
        new.pad(steTypes: steTypeIDs.count, chineseWallTypes: chineseWallTypeIDs.count, vms: vmNames.count, resources: resourceNames.count)
    }

    /// The type standing for "no STE component"; no declared type can be named so (names are text
    /// of XML elements, which cannot hold NUL).
    private static let anyType = "\u{0}any"

    private static func id(_ name: String, _ names: inout [String], _ ids: inout [String: Int]) -> Int {
        if let id = ids[name] { return id }
        ids[name] = names.count
        names.append(name)
        return names.count - 1
    }

    private mutating func side(_ policy: Policy, vmIdentity: [String?], resourceIdentity: [String?]) -> Side {
        var side = Side()
        side.vmSTE = Array(repeating: nil, count: vmNames.count)
        side.vmChineseWall = Array(repeating: nil, count: vmNames.count)
        side.resourceSTE = Array(repeating: nil, count: resourceNames.count)
        func ids(_ names: [String]?, _ table: inout [String: Int]) -> [Int] {
            var result = (names ?? []).map { name in
                if let id = table[name] { return id }
                table[name] = table.count
                return table.count - 1
            }
            result.sort()
            return result.uniqued()
        }
        // Without an STE component the hypervisor makes no sharing decision: every domain may share
        // with every other and use every resource. One type that every label holds says exactly that.
        let unrestricted = policy.simpleTypeEnforcement == nil ? [Self.anyType] : nil
        for (label, identity) in zip(policy.vmLabels, vmIdentity) {
            guard let identity, let id = vmIDs[identity] else { continue }
            side.vmSTE[id] = ids(unrestricted ?? label.steTypes, &steTypeIDs)
            side.vmChineseWall[id] = ids(label.chineseWallTypes, &chineseWallTypeIDs)
            if label.name == policy.bootstrapLabel { side.bootstrapSTE = Set(side.vmSTE[id]!) }
        }
        for (label, identity) in zip(policy.resourceLabels, resourceIdentity) {
            guard let identity, let id = resourceIDs[identity] else { continue }
            side.resourceSTE[id] = ids(unrestricted ?? label.steTypes, &steTypeIDs)
        }
        side.conflictSets = (policy.chineseWall?.conflictSets ?? []).map { ids($0.types, &chineseWallTypeIDs) }
        return side
    }

    // MARK: The effects

    /// Computes the effects; `authorization` is whether the target has the run test (Xen 3.2+).
    func effects(authorization: Bool) -> PolicyEffects {
        var effects = PolicyEffects()
        let vms = Ranking(vmNames)
        let resources = Ranking(resourceNames)
        let vmCount = vmNames.count

        // share: unordered pairs of VM labels with a common STE type.
        let steAffected = (0..<vmCount).map { old.vmSTE[$0] != new.vmSTE[$0] }
        var marks = Marks(count: vmCount)
        var share = PairCollector(first: vms, second: vms)
        for a in 0..<vmCount where steAffected[a] {
            marks.compare(
                old: { marks in marks.collect(old.vmSTE[a], through: old.steHolders, excluding: a) },
                new: { marks in marks.collect(new.vmSTE[a], through: new.steHolders, excluding: a) }
            ) { b, gained in
                // A pair of two affected labels is handled from its lower identity only.
                if !(steAffected[b] && b < a) { share.add(unordered: a, b, gained: gained) }
            }
        }
        (effects.shareGained, effects.shareLost) = share.result()

        // resource: (VM label, resource label) with a common STE type.
        let resourceCount = resourceNames.count
        let resourceAffected = (0..<resourceCount).map { old.resourceSTE[$0] != new.resourceSTE[$0] }
        var resourceMarks = Marks(count: resourceCount)
        var resource = PairCollector(first: vms, second: resources)
        for vm in 0..<vmCount where steAffected[vm] {
            resourceMarks.compare(
                old: { marks in marks.collect(old.vmSTE[vm], through: old.steResourceHolders, excluding: -1) },
                new: { marks in marks.collect(new.vmSTE[vm], through: new.steResourceHolders, excluding: -1) }
            ) { r, gained in resource.add(vm, r, gained: gained) }
        }
        for r in 0..<resourceCount where resourceAffected[r] {
            marks.compare(
                old: { marks in marks.collect(old.resourceSTE[r], through: old.steHolders, excluding: -1) },
                new: { marks in marks.collect(new.resourceSTE[r], through: new.steHolders, excluding: -1) }
            ) { vm, gained in
                if !steAffected[vm] { resource.add(vm, r, gained: gained) }
            }
        }
        (effects.resourceGained, effects.resourceLost) = resource.result()

        // block: ordered (a, b), a running keeps b from starting.
        let blockAffected = chineseWallAffected()
        var block = PairCollector(first: vms, second: vms)
        for a in 0..<vmCount where blockAffected[a] {
            // As the running label: every b it blocks.
            marks.compare(
                old: { marks in old.blocked(by: a, into: &marks) },
                new: { marks in new.blocked(by: a, into: &marks) }
            ) { b, gained in block.add(a, b, gained: gained) }
            // As the label that cannot start: blockers that are not affected themselves (the others
            // find this pair above).
            marks.compare(
                old: { marks in old.blockers(of: a, skipping: blockAffected, into: &marks) },
                new: { marks in new.blockers(of: a, skipping: blockAffected, into: &marks) }
            ) { x, gained in block.add(x, a, gained: gained) }
        }
        (effects.blockGained, effects.blockLost) = block.result()

        // run: authorised to run under the bootstrap label's STE types (Xen 3.2+ only).
        if authorization {
            var runGained: [Int] = []
            var runLost: [Int] = []
            for vm in 0..<vmCount {
                let before = old.authorized(vm)
                let after = new.authorized(vm)
                if after && !before { runGained.append(vms.rank[vm]) }
                if before && !after { runLost.append(vms.rank[vm]) }
            }
            effects.runGained = runGained.sorted().map { vms.namesInOrder[$0] }
            effects.runLost = runLost.sorted().map { vms.namesInOrder[$0] }
        }
        return effects
    }

    /// Labels whose block relations may differ: other Chinese Wall types, or a type in a conflict
    /// set that only one side has.
    private func chineseWallAffected() -> [Bool] {
        var affected = (0..<vmNames.count).map { old.vmChineseWall[$0] != new.vmChineseWall[$0] }
        let oldSets = Set(old.conflictSets)
        let newSets = Set(new.conflictSets)
        for set in oldSets.symmetricDifference(newSets) {
            for type in set {
                for vm in old.chineseWallHolders[type] { affected[vm] = true }
                for vm in new.chineseWallHolders[type] { affected[vm] = true }
            }
        }
        return affected
    }
}

/// Names in code point order, so that pairs sort as integers.
struct Ranking {
    /// Position of each identity in code point order.
    let rank: [Int]
    let namesInOrder: [String]

    init(_ names: [String]) {
        let order = names.indices.sorted { codePointPrecedes(names[$0], names[$1]) }
        var rank = [Int](repeating: 0, count: names.count)
        for (position, index) in order.enumerated() { rank[index] = position }
        self.rank = rank
        namesInOrder = order.map { names[$0] }
    }
}

/// Gained and lost pairs, packed as `rank(first) << 32 | rank(second)` so that sorting is integer
/// sorting even for millions of pairs.
struct PairCollector {
    let first: Ranking
    let second: Ranking
    private var gained: [UInt64] = []
    private var lost: [UInt64] = []

    init(first: Ranking, second: Ranking) {
        self.first = first
        self.second = second
    }

    mutating func add(_ a: Int, _ b: Int, gained isGained: Bool) {
        let packed = UInt64(first.rank[a]) << 32 | UInt64(second.rank[b])
        if isGained { gained.append(packed) } else { lost.append(packed) }
    }

    /// An unordered pair, written smaller name first.
    mutating func add(unordered a: Int, _ b: Int, gained isGained: Bool) {
        first.rank[a] < first.rank[b] ? add(a, b, gained: isGained) : add(b, a, gained: isGained)
    }

    func result() -> (gained: [PolicyEffects.Pair], lost: [PolicyEffects.Pair]) {
        func pairs(_ packed: [UInt64]) -> [PolicyEffects.Pair] {
            Self.sorted(packed, firstCount: first.rank.count).map {
                PolicyEffects.Pair(first.namesInOrder[Int($0 >> 32)], second.namesInOrder[Int($0 & 0xFFFF_FFFF)])
            }
        }
        return (pairs(gained), pairs(lost))
    }

    /// Sorts packed pairs: a counting sort on the first rank, then each (small) bucket by the second,
    /// several times faster than a comparison sort of millions of pairs.
    static func sorted(_ packed: [UInt64], firstCount: Int) -> [UInt64] {
        guard packed.count > 1 else { return packed }
        var starts = [Int](repeating: 0, count: firstCount + 1)
        for value in packed { starts[Int(value >> 32) + 1] += 1 }
        for index in 0..<firstCount { starts[index + 1] += starts[index] }
        var next = starts
        var result = [UInt64](repeating: 0, count: packed.count)
        for value in packed {
            let bucket = Int(value >> 32)
            result[next[bucket]] = value
            next[bucket] += 1
        }
        for bucket in 0..<firstCount where starts[bucket + 1] - starts[bucket] > 1 {
            result[starts[bucket]..<starts[bucket + 1]].sort()
        }
        return result
    }
}

extension EffectAnalysis.Side {
    /// Extends every index to the final numbering and fills the holder lists.
    mutating func pad(steTypes: Int, chineseWallTypes: Int, vms: Int, resources: Int) {
        vmSTE += Array(repeating: nil, count: vms - vmSTE.count)
        vmChineseWall += Array(repeating: nil, count: vms - vmChineseWall.count)
        resourceSTE += Array(repeating: nil, count: resources - resourceSTE.count)
        steHolders = Array(repeating: [], count: steTypes)
        steResourceHolders = Array(repeating: [], count: steTypes)
        chineseWallHolders = Array(repeating: [], count: chineseWallTypes)
        setsOfType = Array(repeating: [], count: chineseWallTypes)
        for (vm, types) in vmSTE.enumerated() { for type in types ?? [] { steHolders[type].append(vm) } }
        for (resource, types) in resourceSTE.enumerated() { for type in types ?? [] { steResourceHolders[type].append(resource) } }
        for (vm, types) in vmChineseWall.enumerated() { for type in types ?? [] { chineseWallHolders[type].append(vm) } }
        for (index, set) in conflictSets.enumerated() { for type in set { setsOfType[type].append(index) } }
    }

    /// The conflict sets that share a type with the given Chinese Wall types.
    private func setsTouching(_ types: [Int]) -> [Int] {
        var result: [Int] = []
        for type in types { result += setsOfType[type] }
        result.sort()
        return result.uniqued()
    }

    /// The labels a running domain labelled `a` keeps from starting: for each conflict set sharing
    /// a type with `a`, the holders of the set's other types (the hypervisor's aggregate set, §2.3).
    func blocked(by a: Int, into marks: inout Marks.Collection) {
        guard let own = vmChineseWall[a], !own.isEmpty else { return }
        for set in setsTouching(own) {
            for type in conflictSets[set] where own.binarySearch(type) == nil {
                for b in chineseWallHolders[type] { marks.insert(b) }
            }
        }
    }

    /// The labels whose running domains keep `b` from starting: `x` holds a type of a conflict set
    /// that `b` also touches with a type `x` does not hold. Labels marked in `skipping` are left out.
    func blockers(of b: Int, skipping: [Bool], into marks: inout Marks.Collection) {
        guard let own = vmChineseWall[b], !own.isEmpty else { return }
        for set in setsTouching(own) {
            let members = conflictSets[set]
            let bTypes = members.filter { own.binarySearch($0) != nil }
            for type in members {
                for x in chineseWallHolders[type] where !skipping[x] && !marks.contains(x) {
                    guard let xTypes = vmChineseWall[x] else { continue }
                    if bTypes.contains(where: { xTypes.binarySearch($0) == nil }) { marks.insert(x) }
                }
            }
        }
    }

    /// The run test of Xen 3.2+ (`acm_authorization`): the label's STE types are a subset of the
    /// bootstrap label's (`is_superset`), and the two share one (`acm_sharing`).
    func authorized(_ vm: Int) -> Bool {
        guard let types = vmSTE[vm], let bootstrap = bootstrapSTE, !types.isEmpty else { return false }
        return types.allSatisfy(bootstrap.contains)
    }
}

/// Per-identity stamps, so that collecting and comparing two neighbourhoods needs no hash set.
struct Marks {
    private var oldStamp: [UInt32]
    private var newStamp: [UInt32]
    private var epoch: UInt32 = 0

    init(count: Int) {
        oldStamp = Array(repeating: 0, count: count)
        newStamp = Array(repeating: 0, count: count)
    }

    /// One neighbourhood being collected: distinct members, in the order found.
    struct Collection {
        fileprivate var stamp: [UInt32]
        fileprivate let epoch: UInt32
        fileprivate(set) var members: [Int] = []

        mutating func insert(_ member: Int) {
            guard stamp[member] != epoch else { return }
            stamp[member] = epoch
            members.append(member)
        }

        func contains(_ member: Int) -> Bool { stamp[member] == epoch }

        /// The distinct holders of `types` (nil: the label is absent), without `excluded`.
        mutating func collect(_ types: [Int]?, through holders: [[Int]], excluding excluded: Int) {
            for type in types ?? [] {
                for other in holders[type] where other != excluded { insert(other) }
            }
        }
    }

    /// Collects a neighbourhood on each side and reports each member of one but not the other:
    /// `report(member, true)` for members only NEW has (gained), `false` for those only OLD has.
    mutating func compare(
        old collectOld: (inout Collection) -> Void, new collectNew: (inout Collection) -> Void, report: (Int, Bool) -> Void
    ) {
        epoch &+= 1
        if epoch == 0 {
            // After 2^32 comparisons the stamps would repeat; start again from clean arrays.
            oldStamp = Array(repeating: 0, count: oldStamp.count)
            newStamp = Array(repeating: 0, count: newStamp.count)
            epoch = 1
        }
        var before = Collection(stamp: [], epoch: epoch)
        swap(&before.stamp, &oldStamp)
        collectOld(&before)
        var after = Collection(stamp: [], epoch: epoch)
        swap(&after.stamp, &newStamp)
        collectNew(&after)
        for member in after.members where !before.contains(member) { report(member, true) }
        for member in before.members where !after.contains(member) { report(member, false) }
        swap(&before.stamp, &oldStamp)
        swap(&after.stamp, &newStamp)
    }
}

extension Array where Element == Int {
    /// The sorted array without repetitions (the array must be sorted).
    func uniqued() -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        for value in self where result.last != value { result.append(value) }
        return result
    }

    /// The index of `value` in this sorted array.
    func binarySearch(_ value: Int) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low < count && self[low] == value ? low : nil
    }
}
