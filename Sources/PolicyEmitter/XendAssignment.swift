import PolicyModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Numbering of xend's `acmpolicy.py` (Xen 3.2-4.1): types sorted; VM labels bootstrap first, then
/// sorted; every VM label gets ssid n in both components (ssidref `(n << 16) | n`); resource labels
/// (sorted) follow in STE; an `__UNLABELED__` VM label, if any, supplies ssid 0.
struct XendAssignment {
    let policy: Policy
    let target: Target

    static let unlabeled = "__UNLABELED__"

    func compile() -> (BinaryPolicy, LabelMap) {
        let (binary, map) = compileSparse()
        return (binary.dense, map)
    }

    /// ``compile()`` with the matrices kept sparse (the set columns of each row), for encoding the
    /// blob without the dense matrices, which for 10,000 labels are as large as the blob.
    func compileSparse() -> (SparseBinaryPolicy, LabelMap) {
        let steTypes = (policy.simpleTypeEnforcement?.types ?? []).sorted(by: codePointOrder)
        let chineseWallTypes = (policy.chineseWall?.types.types ?? []).sorted(by: codePointOrder)
        // Orders as indices into the policy's label lists: 10,000 labels are not copied around.
        let vmLabels = policy.vmLabels
        let resourceLabels = policy.resourceLabels
        let vmOrder = orderedVMLabelIndices()
        let resourceOrder = sortedByName(
            resourceLabels.indices.filter { resourceLabels[$0].steTypes != nil && resourceLabels[$0].name != Self.unlabeled },
            of: resourceLabels)
        let unlabeled = vmLabels.firstIndex { $0.name == Self.unlabeled }

        let steIndex = Dictionary(steTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let chineseWallIndex = Dictionary(chineseWallTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        /// The columns of the declared ones among `names`.
        func columns(_ names: [String]?, _ index: [String: Int]) -> [Int] {
            (names ?? []).compactMap { index[$0] }
        }

        // Row 0 is ssid 0: `__UNLABELED__`'s types, if it exists.
        var chineseWallSsids = SparseTypeMatrix(types: chineseWallTypes.count)
        var steSsids = SparseTypeMatrix(types: steTypes.count)
        chineseWallSsids.appendRow(columns(unlabeled.flatMap { vmLabels[$0].chineseWallTypes }, chineseWallIndex))
        steSsids.appendRow(columns(unlabeled.flatMap { vmLabels[$0].steTypes }, steIndex))
        for label in vmOrder {
            chineseWallSsids.appendRow(columns(vmLabels[label].chineseWallTypes, chineseWallIndex))
            steSsids.appendRow(columns(vmLabels[label].steTypes, steIndex))
        }
        for label in resourceOrder {
            steSsids.appendRow(columns(resourceLabels[label].steTypes, steIndex))
        }
        // Conflict sets in name order; Swift's sort is stable, so equal names keep document order
        // as Python's did.
        let sets = (policy.chineseWall?.conflictSets ?? []).sorted { codePointOrder($0.name ?? "", $1.name ?? "") }
        var conflicts = SparseTypeMatrix(types: chineseWallTypes.count)
        for set in sets { conflicts.appendRow(columns(set.types, chineseWallIndex)) }

        let binary = SparseBinaryPolicy(
            format: BlobFormat(target), policyName: policy.name,
            version: policy.header.version ?? PolicyVersion(major: 0, minor: 0),
            xmlHash: target == .xen41 ? (policy.xmlDigest ?? [UInt8](repeating: 0, count: 20)) : [],
            primary: .chineseWall(ssids: chineseWallSsids, conflictSets: conflicts),
            secondary: .simpleTypeEnforcement(steSsids))

        let nullName = unlabeled == nil ? "__NULL_LABEL__" : Self.unlabeled
        let vmEntries = vmOrder.enumerated().map { ComponentLabels.Entry(kind: "VM", name: vmLabels[$1].name, ssid: $0 + 1) }
        let chineseWallMap = ComponentLabels(
            maxTypes: chineseWallTypes.count, maxSsids: 1 + vmOrder.count, maxLabels: 1 + vmOrder.count,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)] + vmEntries,
            ssidTypes: [.init(ssid: 0, types: [])]
                + vmOrder.enumerated().map { .init(ssid: $0 + 1, types: vmLabels[$1].chineseWallTypes ?? []) },
            types: chineseWallTypes.enumerated().map { .init(name: $1, index: $0) })
        let steMap = ComponentLabels(
            maxTypes: steTypes.count, maxSsids: steSsids.rows, maxLabels: steSsids.rows,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)] + vmEntries
                + resourceOrder.enumerated().map {
                    .init(kind: "RES", name: resourceLabels[$1].name, ssid: 1 + vmOrder.count + $0)
                },
            ssidTypes: [.init(ssid: 0, types: [])]
                + vmOrder.enumerated().map { .init(ssid: $0 + 1, types: vmLabels[$1].steTypes ?? []) }
                + resourceOrder.enumerated().map {
                    .init(ssid: 1 + vmOrder.count + $0, types: resourceLabels[$1].steTypes ?? [])
                },
            types: steTypes.enumerated().map { .init(name: $1, index: $0) })
        let map = LabelMap(
            dialect: .xend, policyName: policy.name, policyFile: "", binaryFile: "", primary: "CHWALL",
            secondary: "STE", chineseWall: chineseWallMap, ste: steMap)
        return (binary, map)
    }

    /// The VM labels in ssid order, as indices into `policy.vmLabels`: the bootstrap label first,
    /// then the other VM labels sorted, without `__UNLABELED__`.
    func orderedVMLabelIndices() -> [Int] {
        let labels = policy.vmLabels
        let bootstrap = labels.firstIndex { $0.name == policy.bootstrapLabel }
        let rest = sortedByName(
            labels.indices.filter { labels[$0].name != policy.bootstrapLabel && labels[$0].name != Self.unlabeled }, of: labels)
        return (bootstrap.map { [$0] } ?? []) + rest
    }

    /// `indices` of `labels` in ``codePointOrder(_:_:)`` of the labels' names; labels with equal names
    /// keep their order, as in Python's stable sort.
    func sortedByName(_ indices: [Int], of labels: [Label]) -> [Int] {
        // The names' UTF-8 bytes side by side, so that comparisons are memcmp calls on one buffer.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(indices.count)
        for index in indices {
            let start = bytes.count
            bytes.append(contentsOf: labels[index].name.utf8)
            ranges.append(start..<bytes.count)
        }
        let order = bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            return ranges.indices.sorted { a, b in
                let x = ranges[a]
                let y = ranges[b]
                let common = min(x.count, y.count)
                if common > 0, let base {
                    let byName = memcmp(base + x.lowerBound, base + y.lowerBound, common)
                    if byName != 0 { return byName < 0 }
                }
                return x.count != y.count ? x.count < y.count : a < b
            }
        }
        return order.map { indices[$0] }
    }
}

/// Python 2's `unicode` sort: by code point, which UTF-8 byte order equals. Swift's `<` on String
/// compares canonical equivalents and would differ for some non-ASCII names.
func codePointOrder(_ a: String, _ b: String) -> Bool {
    compareCodePoints(a, b) < 0
}

/// Negative, zero or positive as `a` sorts before, with or after `b` in code-point order (UTF-8 byte order).
func compareCodePoints(_ a: String, _ b: String) -> Int {
    var a = a
    var b = b
    return a.withUTF8 { a in
        b.withUTF8 { b in
            let common = min(a.count, b.count)
            if common > 0, let x = a.baseAddress, let y = b.baseAddress {
                let order = memcmp(x, y, common)
                if order != 0 { return Int(order) }
            }
            return a.count - b.count
        }
    }
}
