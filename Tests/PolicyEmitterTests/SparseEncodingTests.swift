import PolicyModel
import Testing

@testable import PolicyEmitter

/// The sparse path (matrices as the set columns of each row, written straight into the blob) gives
/// the bytes of the dense path, for every format and for Xen 3.2+ numbering of generated policies.
@Suite struct SparseEncodingTests {
    typealias Generator = BlobRoundTripTests.Generator

    static func sparseMatrix(_ generator: inout Generator, types: Int, rows: Int) -> SparseTypeMatrix {
        var matrix = SparseTypeMatrix(types: types)
        for _ in 0..<rows {
            // Repeated columns are allowed and set the flag once.
            matrix.appendRow(types == 0 ? [] : (0..<generator.int(0...4)).map { _ in generator.int(0...(types - 1)) })
        }
        return matrix
    }

    @Test(arguments: BlobFormat.allCases)
    func sparseAndDenseEncodeAlike(format: BlobFormat) {
        var generator = Generator(state: 0xC0FFEE &+ UInt64(format.policyVersion))
        for _ in 0..<200 {
            let chineseWallTypes = generator.int(0...7)
            let steTypes = generator.int(0...7)
            let chineseWall = SparseBinaryPolicy.Component.chineseWall(
                ssids: Self.sparseMatrix(&generator, types: chineseWallTypes, rows: generator.int(1...9)),
                conflictSets: Self.sparseMatrix(&generator, types: chineseWallTypes, rows: generator.int(0...3)))
            let ste = SparseBinaryPolicy.Component.simpleTypeEnforcement(
                Self.sparseMatrix(&generator, types: steTypes, rows: generator.int(1...9)))
            let (primary, secondary): (SparseBinaryPolicy.Component, SparseBinaryPolicy.Component) =
                switch generator.int(0...4) {
                case 0: (.null, .null)
                case 1: (chineseWall, .null)
                case 2: (ste, .null)
                case 3: (ste, chineseWall)
                default: (chineseWall, ste)
                }
            let policy = SparseBinaryPolicy(
                format: format, policyName: format.hasPolicyReference ? String(repeating: "q", count: generator.int(0...20)) : nil,
                version: PolicyVersion(major: UInt32(generator.int(0...9)), minor: UInt32(generator.int(0...9))),
                xmlHash: format == .g4 ? (0..<20).map { _ in UInt8(generator.next() & 0xFF) } : [], primary: primary,
                secondary: secondary)
            #expect(BlobEncoder.encode(policy) == BlobEncoder.encode(policy.dense))
        }
    }

    @Test(arguments: [Target.xen32, .xen41])
    func xendNumberingEncodesAlike(target: Target) {
        var generator = Generator(state: 0x5EED)
        for _ in 0..<50 {
            let steTypes = ["SystemManagement"] + (1...generator.int(1...9)).map { "ste\($0)" }
            let chineseWallTypes = ["SystemManagement"] + (1...generator.int(1...5)).map { "cw\($0)" }
            /// A few types, sometimes repeated or undeclared, or no types element at all.
            func pick(_ declared: [String]) -> [String]? {
                guard generator.int(0...5) > 0 else { return nil }
                return (0..<generator.int(0...4)).map { _ in
                    generator.int(0...9) == 0 ? "undeclared" : declared[generator.int(0...(declared.count - 1))]
                }
            }
            var vmLabels = (0..<generator.int(1...12)).map { index in
                Label(
                    kind: .virtualMachine, name: "vm\(generator.int(0...20))-\(index % 3)", steTypes: pick(steTypes),
                    chineseWallTypes: pick(chineseWallTypes))
            }
            if generator.int(0...2) == 0 {
                vmLabels.append(Label(kind: .virtualMachine, name: "__UNLABELED__", steTypes: pick(steTypes), chineseWallTypes: nil))
            }
            let resourceLabels = (0..<generator.int(0...6)).map { index in
                Label(kind: .resource, name: "res\(generator.int(0...9))\(index)", steTypes: pick(steTypes), chineseWallTypes: nil)
            }
            let conflictSets = (0..<generator.int(0...3)).map { index in
                ConflictSet(name: "c\(generator.int(0...2))", types: pick(chineseWallTypes) ?? ["cw\(index)"])
            }
            let policy = Policy(
                name: "generated", simpleTypeEnforcement: TypeSet(types: steTypes),
                chineseWall: ChineseWall(types: TypeSet(types: chineseWallTypes), conflictSets: conflictSets),
                bootstrapLabel: vmLabels[generator.int(0...(vmLabels.count - 1))].name, vmLabels: vmLabels,
                resourceLabels: resourceLabels, xmlDigest: (0..<20).map { UInt8($0) })
            let (sparse, map) = XendAssignment(policy: policy, target: target).compileSparse()
            let (reference, referenceMap) = Self.referenceCompile(policy, target: target)
            #expect(sparse.dense == reference)
            #expect(map == referenceMap)
            #expect(BlobEncoder.encode(sparse) == BlobEncoder.encode(reference))
        }
    }

    /// xend's numbering as the emitter implemented it with dense matrices, before it kept them sparse.
    static func referenceCompile(_ policy: Policy, target: Target) -> (BinaryPolicy, LabelMap) {
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        let unlabeledName = "__UNLABELED__"
        let steTypes = (policy.simpleTypeEnforcement?.types ?? []).sorted(by: before)
        let chineseWallTypes = (policy.chineseWall?.types.types ?? []).sorted(by: before)
        let bootstrap = policy.vmLabels.first { $0.name == policy.bootstrapLabel }
        let vmLabels =
            (bootstrap.map { [$0] } ?? [])
            + policy.vmLabels.filter { $0.name != policy.bootstrapLabel && $0.name != unlabeledName }.sorted { before($0.name, $1.name) }
        let resources = policy.resourceLabels.filter { $0.steTypes != nil && $0.name != unlabeledName }.sorted { before($0.name, $1.name) }
        let unlabeled = policy.vmLabels.first { $0.name == unlabeledName }
        let steIndex = Dictionary(steTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let chineseWallIndex = Dictionary(chineseWallTypes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var chineseWallSsids = TypeMatrix(types: chineseWallTypes.count, rows: 1 + vmLabels.count)
        var steSsids = TypeMatrix(types: steTypes.count, rows: 1 + vmLabels.count + resources.count)
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
        let sets = (policy.chineseWall?.conflictSets ?? []).sorted { before($0.name ?? "", $1.name ?? "") }
        var conflicts = TypeMatrix(types: chineseWallTypes.count, rows: sets.count)
        for (row, set) in sets.enumerated() { fill(&conflicts, row: row, set.types, chineseWallIndex) }
        let binary = BinaryPolicy(
            format: BlobFormat(target), policyName: policy.name, version: policy.header.version ?? PolicyVersion(major: 0, minor: 0),
            xmlHash: target == .xen41 ? (policy.xmlDigest ?? [UInt8](repeating: 0, count: 20)) : [],
            primary: .chineseWall(ChineseWallMatrices(ssids: chineseWallSsids, conflictSets: conflicts)),
            secondary: .simpleTypeEnforcement(steSsids))
        let nullName = unlabeled == nil ? "__NULL_LABEL__" : unlabeledName
        let chineseWallMap = ComponentLabels(
            maxTypes: chineseWallTypes.count, maxSsids: 1 + vmLabels.count, maxLabels: 1 + vmLabels.count,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)]
                + vmLabels.enumerated().map { .init(kind: "VM", name: $1.name, ssid: $0 + 1) },
            ssidTypes: [.init(ssid: 0, types: [])] + vmLabels.enumerated().map { .init(ssid: $0 + 1, types: $1.chineseWallTypes ?? []) },
            types: chineseWallTypes.enumerated().map { .init(name: $1, index: $0) })
        let steMap = ComponentLabels(
            maxTypes: steTypes.count, maxSsids: steSsids.rows, maxLabels: steSsids.rows,
            entries: [.init(kind: "ANY", name: nullName, ssid: 0)]
                + vmLabels.enumerated().map { .init(kind: "VM", name: $1.name, ssid: $0 + 1) }
                + resources.enumerated().map { .init(kind: "RES", name: $1.name, ssid: 1 + vmLabels.count + $0) },
            ssidTypes: [.init(ssid: 0, types: [])] + vmLabels.enumerated().map { .init(ssid: $0 + 1, types: $1.steTypes ?? []) }
                + resources.enumerated().map { .init(ssid: 1 + vmLabels.count + $0, types: $1.steTypes ?? []) },
            types: steTypes.enumerated().map { .init(name: $1, index: $0) })
        let map = LabelMap(
            dialect: .xend, policyName: policy.name, policyFile: "", binaryFile: "", primary: "CHWALL", secondary: "STE",
            chineseWall: chineseWallMap, ste: steMap)
        return (binary, map)
    }
}
