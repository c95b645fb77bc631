import PolicyDiagnostics
import PolicyEmitter
import PolicyModel

/// Rebuilds policy XML from a blob and its label map, such that compiling the XML for the blob's
/// target reproduces the blob byte for byte (for Xen 3.3-4.1 blobs: all but the 20-byte XML hash,
/// which is a digest of the original XML text and cannot be recovered).
public enum Decompiler {
    /// The decompiled files: the policy and, for Xen 3.0.2, the separate label template.
    public struct Output: Equatable, Sendable {
        public var policyXML: String
        public var labelTemplateXML: String?
    }

    /// Decompiles; the map supplies the names the blob does not carry.
    public static func decompile(_ blob: BinaryPolicy, map: LabelMap, file: String) -> (Output?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let policy = reconstruct(blob, map: map, file: file, diagnostics: &diagnostics)
        guard let policy, !diagnostics.contains(where: { $0.severity == .error }) else { return (nil, diagnostics) }
        return (PolicyPrinter.print(policy, target: blob.format.target), diagnostics)
    }

    /// The policy model behind a blob and map.
    public static func reconstruct(_ blob: BinaryPolicy, map: LabelMap, file: String, diagnostics: inout [Diagnostic]) -> Policy? {
        let location = SourceLocation(file: file)
        var chineseWallMatrices: ChineseWallMatrices? = nil
        var steMatrix: TypeMatrix? = nil
        for component in [blob.primary, blob.secondary] {
            switch component {
            case .chineseWall(let matrices): chineseWallMatrices = matrices
            case .simpleTypeEnforcement(let matrix): steMatrix = matrix
            case .null: break
            }
        }
        func typeNames(_ labels: ComponentLabels?, count: Int, component: String) -> [String]? {
            let byIndex = labels?.typeNamesByIndex ?? [:]
            let names = (0..<count).map { byIndex[$0] }
            guard names.allSatisfy({ $0 != nil }) else {
                diagnostics.append(.error("E0503", "the map does not name all \(count) \(component) types of the blob", at: location))
                return nil
            }
            return names.map { $0! }
        }
        let chineseWallTypes = chineseWallMatrices.flatMap { typeNames(map.chineseWall, count: $0.ssids.types, component: "CHWALL") }
        let steTypes = steMatrix.flatMap { typeNames(map.ste, count: $0.types, component: "STE") }
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return nil }

        /// The types of `ssid` in a matrix, in the order the map lists them when it agrees with the row.
        func types(ofSsid ssid: Int, matrix: TypeMatrix, names: [String], labels: ComponentLabels?) -> [String]? {
            // A LabelMap may be built by hand; the parser reads no negative numbers.
            guard (0..<matrix.rows).contains(ssid) else {
                diagnostics.append(.error("E0503", "the map gives ssid \(ssid) but the blob has \(matrix.rows) ssids", at: location))
                return nil
            }
            let fromRow = matrix.typeIndices(ofRow: ssid).map { names[$0] }
            if let listed = labels?.ssidTypes.first(where: { $0.ssid == ssid })?.types, Set(listed) == Set(fromRow),
                listed.count == fromRow.count
            {
                return listed
            }
            return fromRow
        }

        let target = blob.format.target
        let xend = target.usesXendNumbering
        var vmOrder: [String] = []
        var steOfLabel: [String: [String]] = [:]
        var chineseWallOfLabel: [String: [String]] = [:]
        var resources: [(String, [String])] = []
        var unlabeled = false
        for entry in map.ste?.entries ?? [] {
            guard let matrix = steMatrix, let names = steTypes,
                let types = types(ofSsid: entry.ssid, matrix: matrix, names: names, labels: map.ste)
            else { continue }
            switch entry.kind {
            case "VM":
                steOfLabel[entry.name] = types
                vmOrder.append(entry.name)
            case "RES": resources.append((entry.name, types))
            default:
                if xend, entry.name == "__UNLABELED__" {
                    unlabeled = true
                    steOfLabel[entry.name] = matrix.typeIndices(ofRow: 0).map { names[$0] }
                }
            }
        }
        var chineseWallOrder: [String] = []
        for entry in map.chineseWall?.entries ?? [] {
            guard let matrices = chineseWallMatrices, let names = chineseWallTypes,
                let types = types(ofSsid: entry.ssid, matrix: matrices.ssids, names: names, labels: map.chineseWall)
            else { continue }
            if entry.kind == "VM" {
                chineseWallOfLabel[entry.name] = types
                chineseWallOrder.append(entry.name)
            } else if xend, entry.name == "__UNLABELED__" {
                unlabeled = true
                chineseWallOfLabel[entry.name] = matrices.ssids.typeIndices(ofRow: 0).map { names[$0] }
            }
        }
        let order = mergeOrders(vmOrder, chineseWallOrder)
        let bootstrap = order.first
        var vmLabels = order.map { name in
            Label(
                kind: .virtualMachine, name: name, steTypes: steOfLabel[name] ?? (xend && steMatrix != nil ? [] : nil),
                chineseWallTypes: chineseWallOfLabel[name] ?? (xend && chineseWallMatrices != nil ? [] : nil))
        }
        if unlabeled {
            vmLabels.append(
                Label(
                    kind: .virtualMachine, name: "__UNLABELED__", steTypes: steOfLabel["__UNLABELED__"],
                    chineseWallTypes: chineseWallOfLabel["__UNLABELED__"]))
        }
        // Conflict sets carry no names in the blob; xend ordered them by name, so zero-padded
        // generated names keep the order.
        let conflictSets: [ConflictSet] =
            chineseWallMatrices.map { matrices in
                (0..<matrices.conflictSets.rows).map { row in
                    ConflictSet(
                        name: "conflict-\(String(repeating: "0", count: max(0, 3 - String(row + 1).count)))\(row + 1)",
                        types: matrices.conflictSets.typeIndices(ofRow: row).map { chineseWallTypes![$0] })
                }
            } ?? []
        let version = blob.format.hasVersion ? blob.version : nil
        return Policy(
            name: blob.policyName,
            header: PolicyHeader(version: version, versionText: version?.description),
            simpleTypeEnforcement: steTypes.map { TypeSet(types: $0) },
            chineseWall: chineseWallTypes.map { ChineseWall(types: TypeSet(types: $0, markedPrimary: true), conflictSets: conflictSets) },
            bootstrapLabel: bootstrap,
            vmLabels: vmLabels,
            resourceLabels: resources.map { Label(kind: .resource, name: $0.0, steTypes: $0.1, chineseWallTypes: nil) })
    }

    /// One sequence containing both, keeping the relative order of each (both are document order
    /// restricted to the labels carrying one component).
    static func mergeOrders(_ a: [String], _ b: [String]) -> [String] {
        var result: [String] = []
        var placed: Set<String> = []
        let inA = Set(a)
        let inB = Set(b)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, placed.contains(a[i]) {
                i += 1
            } else if j < b.count, placed.contains(b[j]) {
                j += 1
            } else if i < a.count, !inB.contains(a[i]) || (j < b.count && a[i] == b[j]) {
                result.append(a[i])
                placed.insert(a[i])
            } else if j < b.count, !inA.contains(b[j]) {
                result.append(b[j])
                placed.insert(b[j])
            } else if i < a.count {
                result.append(a[i])
                placed.insert(a[i])
            } else {
                result.append(b[j])
                placed.insert(b[j])
            }
        }
        return result
    }
}
