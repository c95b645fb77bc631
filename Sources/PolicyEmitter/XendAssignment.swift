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
        let steTypes = (policy.simpleTypeEnforcement?.types ?? []).sorted(by: codePointOrder)
        let chineseWallTypes = (policy.chineseWall?.types.types ?? []).sorted(by: codePointOrder)
        let vmLabels = orderedVMLabels()
        let resources = sortedByName(policy.resourceLabels.filter { $0.steTypes != nil && $0.name != Self.unlabeled })
        let unlabeled = policy.vmLabels.first { $0.name == Self.unlabeled }

        let steIndex = Dictionary(steTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let chineseWallIndex = Dictionary(chineseWallTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })

        var chineseWallSsids = zeroMatrix(types: chineseWallTypes.count, rows: 1 + vmLabels.count)
        var steSsids = zeroMatrix(types: steTypes.count, rows: 1 + vmLabels.count + resources.count)
        func fill(_ matrix: inout TypeMatrix, row: Int, _ names: [String]?, _ index: [String: Int]) {
            for name in names ?? [] { if let column = index[name] { matrix[row, column] = 1 } }
        }
        fill(&chineseWallSsids, row: 0, unlabeled?.chineseWallTypes, chineseWallIndex)
        fill(&steSsids, row: 0, unlabeled?.steTypes, steIndex)
        for (offset, label) in vmLabels.enumerated() {
            fill(&chineseWallSsids, row: offset + 1, label.chineseWallTypes, chineseWallIndex)
            fill(&steSsids, row: offset + 1, label.steTypes, steIndex)
        }
        for (offset, label) in resources.enumerated() {
            fill(&steSsids, row: 1 + vmLabels.count + offset, label.steTypes, steIndex)
        }
        // Conflict sets in name order; Swift's sort is stable, so equal names keep document order
        // as Python's did.
        let sets = (policy.chineseWall?.conflictSets ?? []).sorted { codePointOrder($0.name ?? "", $1.name ?? "") }
        var conflicts = TypeMatrix(types: chineseWallTypes.count, rows: sets.count)
        for (row, set) in sets.enumerated() { fill(&conflicts, row: row, set.types, chineseWallIndex) }

        let binary = BinaryPolicy(
            format: BlobFormat(target), policyName: policy.name,
            version: policy.header.version ?? PolicyVersion(major: 0, minor: 0),
            xmlHash: target == .xen41 ? (policy.xmlDigest ?? [UInt8](repeating: 0, count: 20)) : [],
            primary: .chineseWall(ChineseWallMatrices(ssids: chineseWallSsids, conflictSets: conflicts)),
            secondary: .simpleTypeEnforcement(steSsids))

        let nullName = unlabeled == nil ? "__NULL_LABEL__" : Self.unlabeled
        let chineseWallMap = ComponentLabels(
            maxTypes: chineseWallTypes.count, maxSsids: 1 + vmLabels.count, maxLabels: 1 + vmLabels.count,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)]
                + vmLabels.enumerated().map { .init(kind: "VM", name: $1.name, ssid: $0 + 1) },
            ssidTypes: [.init(ssid: 0, types: [])]
                + vmLabels.enumerated().map { .init(ssid: $0 + 1, types: $1.chineseWallTypes ?? []) },
            types: chineseWallTypes.enumerated().map { .init(name: $1, index: $0) })
        let steMap = ComponentLabels(
            maxTypes: steTypes.count, maxSsids: steSsids.rows, maxLabels: steSsids.rows,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)]
                + vmLabels.enumerated().map { .init(kind: "VM", name: $1.name, ssid: $0 + 1) }
                + resources.enumerated().map { .init(kind: "RES", name: $1.name, ssid: 1 + vmLabels.count + $0) },
            ssidTypes: [.init(ssid: 0, types: [])]
                + vmLabels.enumerated().map { .init(ssid: $0 + 1, types: $1.steTypes ?? []) }
                + resources.enumerated().map { .init(ssid: 1 + vmLabels.count + $0, types: $1.steTypes ?? []) },
            types: steTypes.enumerated().map { .init(name: $1, index: $0) })
        let map = LabelMap(
            dialect: .xend, policyName: policy.name, policyFile: "", binaryFile: "", primary: "CHWALL",
            secondary: "STE", chineseWall: chineseWallMap, ste: steMap)
        return (binary, map)
    }

    /// An all-zero matrix; a large one is backed by huge pages where the system allows (see
    /// ``adviseHugePages(_:)``): the STE matrix of a 10,000-label policy is 22 MB.
    func zeroMatrix(types: Int, rows: Int) -> TypeMatrix {
        let count = types * rows
        let values = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            adviseHugePages(bytes)
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            initialized = count
        }
        return TypeMatrix(types: types, rows: rows, values: values)
    }

    /// Bootstrap first, then the other VM labels sorted, without `__UNLABELED__`.
    func orderedVMLabels() -> [Label] {
        let bootstrap = policy.vmLabels.first { $0.name == policy.bootstrapLabel }
        let rest = sortedByName(policy.vmLabels.filter { $0.name != policy.bootstrapLabel && $0.name != Self.unlabeled })
        return (bootstrap.map { [$0] } ?? []) + rest
    }

    /// `labels` in ``codePointOrder(_:_:)`` of their names; labels with equal names keep their order,
    /// as in Python's stable sort. Sorts indices, so the labels themselves are moved once.
    func sortedByName(_ labels: [Label]) -> [Label] {
        // The names' UTF-8 bytes side by side, so that comparisons are memcmp calls on one buffer.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(labels.count)
        for label in labels {
            let start = bytes.count
            bytes.append(contentsOf: label.name.utf8)
            ranges.append(start..<bytes.count)
        }
        let order = bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            return labels.indices.sorted { a, b in
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
        return order.map { labels[$0] }
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
