import PolicyModel

/// Numbering of `secpol_xml2bin` (Xen 3.0.2-3.1): types in document order; ssid 0 is the null
/// entry, 1 the bootstrap label, then the other labels in document order (VMs, then resources).
/// In Xen 3.0.2 (`remove_doubles`) labels with identical type rows share one ssid.
struct SecpolAssignment {
    let policy: Policy
    let target: Target

    /// One label entry of a component's ssid list, before compaction.
    struct Entry {
        var kind: String
        var name: String
        var row: [UInt16]
        var types: [String]
    }

    func compile() -> (BinaryPolicy, LabelMap) {
        let chineseWall = policy.chineseWall.map {
            component(types: $0.types.types, labels: entries(\.chineseWallTypes, vmOnly: true, types: $0.types.types))
        }
        let ste = policy.simpleTypeEnforcement.map {
            component(types: $0.types, labels: entries(\.steTypes, vmOnly: false, types: $0.types))
        }

        var primary = PolicyComponent.null
        var secondary = PolicyComponent.null
        let chineseWallComponent = chineseWall.map { built -> PolicyComponent in
            let types = policy.chineseWall!.types.types
            var conflicts = TypeMatrix(types: types.count, rows: policy.chineseWall!.conflictSets.count)
            let index = Dictionary(uniqueKeysWithValues: types.enumerated().map { ($1, $0) })
            for (row, set) in policy.chineseWall!.conflictSets.enumerated() {
                for type in set.types { if let column = index[type] { conflicts[row, column] = 1 } }
            }
            return .chineseWall(ChineseWallMatrices(ssids: built.matrix, conflictSets: conflicts))
        }
        let steComponent = ste.map { PolicyComponent.simpleTypeEnforcement($0.matrix) }
        // secpol_xml2bin ignored `priority`: a Chinese Wall section is always primary.
        if let chineseWallComponent {
            primary = chineseWallComponent
            secondary = steComponent ?? .null
        } else if let steComponent {
            primary = steComponent
        }
        let format = BlobFormat(target)
        let binary = BinaryPolicy(
            format: format, policyName: target.hasPolicyName ? policy.name : nil,
            version: policy.header.version ?? PolicyVersion(major: 0, minor: 0), primary: primary, secondary: secondary)
        let map = LabelMap(
            dialect: target == .xen302 ? .g1 : .secpol, policyName: target.hasPolicyName ? policy.name : nil,
            policyFile: "", binaryFile: "", primary: primary.mapName, secondary: secondary.mapName,
            chineseWall: chineseWall?.labels, ste: ste?.labels)
        return (binary, map)
    }

    /// The entries of one component: the null entry, then every label carrying the component's
    /// types element, with the bootstrap label moved to position 1.
    func entries(_ types: KeyPath<Label, [String]?>, vmOnly: Bool, types declared: [String]) -> [Entry] {
        let index = Dictionary(uniqueKeysWithValues: declared.enumerated().map { ($1, $0) })
        func row(_ names: [String]) -> [UInt16] {
            var row = [UInt16](repeating: 0, count: declared.count)
            for name in names { if let column = index[name] { row[column] = 1 } }
            return row
        }
        let nullName = target == .xen302 ? "DEFAULT" : "__NULL_LABEL__"
        var list = [Entry(kind: "ANY", name: nullName, row: row([]), types: [])]
        let labels = policy.vmLabels + (vmOnly ? [] : policy.resourceLabels)
        for label in labels {
            guard let names = label[keyPath: types] else { continue }
            list.append(Entry(kind: label.kind.rawValue, name: label.name, row: row(names), types: names))
        }
        if let bootstrap = policy.bootstrapLabel,
            let position = list.indices.dropFirst().first(where: { list[$0].name == bootstrap && list[$0].kind == "VM" })
        {
            list.insert(list.remove(at: position), at: 1)
        }
        return list
    }

    struct Built {
        var matrix: TypeMatrix
        var labels: ComponentLabels
    }

    func component(types: [String], labels list: [Entry]) -> Built {
        var ssidOfEntry: [Int] = []
        var rows: [[UInt16]] = []
        var rowTypes: [[String]] = []
        if target == .xen302 {
            // remove_doubles: an entry whose row equals an earlier one's becomes a reference to it.
            var ssidOfRow: [[UInt16]: Int] = [:]
            for entry in list {
                if let existing = ssidOfRow[entry.row] {
                    ssidOfEntry.append(existing)
                } else {
                    ssidOfRow[entry.row] = rows.count
                    ssidOfEntry.append(rows.count)
                    rows.append(entry.row)
                    rowTypes.append(types.indices.filter { entry.row[$0] != 0 }.map { types[$0] })
                }
            }
        } else {
            for (index, entry) in list.enumerated() {
                ssidOfEntry.append(index)
                rows.append(entry.row)
                rowTypes.append(types.indices.filter { entry.row[$0] != 0 }.map { types[$0] })
            }
        }
        let matrix = TypeMatrix(types: types.count, rows: rows.count, values: rows.flatMap { $0 })
        let labels = ComponentLabels(
            maxTypes: types.count, maxSsids: rows.count, maxLabels: list.count,
            entries: zip(list, ssidOfEntry).map { ComponentLabels.Entry(kind: $0.kind, name: $0.name, ssid: $1) },
            ssidTypes: rowTypes.enumerated().map { ComponentLabels.SsidTypes(ssid: $0, types: $1) },
            types: types.enumerated().map { ComponentLabels.TypeEntry(name: $1, index: $0) })
        return Built(matrix: matrix, labels: labels)
    }
}
