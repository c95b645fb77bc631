import PolicyDiagnostics
import PolicyEmitter
import PolicyModel

/// Renders a decoded blob for people (`text`) and programs (`json`), with label and type names
/// when a label map is known.
public struct BlobInspector {
    public var file: String
    public var header: BlobDecoder.Header
    public var policy: BinaryPolicy
    public var map: LabelMap?

    public init(file: String, header: BlobDecoder.Header, policy: BinaryPolicy, map: LabelMap?) {
        self.file = file
        self.header = header
        self.policy = policy
        self.map = map
    }

    /// One matrix row with its labels and type names.
    struct Row {
        var index: Int
        var labels: [String]
        var types: [String]
    }

    /// The text report.
    public func text() -> String {
        var out = "\(file): ACM policy blob, format \(policy.format.rawValue) (\(policy.format.target))\n"
        out += "  length                   \(header.length) bytes\n"
        out += "  policy version           \(policy.format.policyVersion)\n"
        if let name = policy.policyName { out += "  policy name              \(name)\n" }
        if policy.format.hasVersion { out += "  xml version              \(policy.version)\n" }
        if policy.format == .g4 { out += "  xml sha-1                \(hex(policy.xmlHash))\n" }
        if let offset = header.policyReferenceOffset { out += "  policy reference offset  \(offset)\n" }
        out += "  primary                  \(policy.primary.mapName) (code \(header.primaryCode), offset \(header.primaryOffset))\n"
        out += "  secondary                \(policy.secondary.mapName) (code \(header.secondaryCode), offset \(header.secondaryOffset))\n"
        for component in [policy.primary, policy.secondary] {
            switch component {
            case .null: break
            case .chineseWall(let matrices):
                let names = typeNames(map?.chineseWall, count: matrices.ssids.types)
                out +=
                    "\nChinese Wall: \(matrices.ssids.types) types, \(matrices.ssids.rows) ssids, \(matrices.conflictSets.rows) conflict sets\n"
                out += "  types: " + names.enumerated().map { "\($0)=\($1)" }.joined(separator: " ") + "\n"
                for row in rows(matrices.ssids, names: names, labels: map?.chineseWall) {
                    out += ssidLine(row)
                }
                for row in rows(matrices.conflictSets, names: names, labels: nil) {
                    out += "  conflict set \(row.index): \(typeList(row.types))\n"
                }
            case .simpleTypeEnforcement(let matrix):
                let names = typeNames(map?.ste, count: matrix.types)
                out += "\nSimple Type Enforcement: \(matrix.types) types, \(matrix.rows) ssids\n"
                out += "  types: " + names.enumerated().map { "\($0)=\($1)" }.joined(separator: " ") + "\n"
                for row in rows(matrix, names: names, labels: map?.ste) {
                    out += ssidLine(row)
                }
            }
        }
        return out
    }

    /// `ssid N [LABELS]: TYPES`, with `(no types)` rather than a line ending in a space.
    private func ssidLine(_ row: Row) -> String {
        let labels = row.labels.isEmpty ? "" : " [" + row.labels.joined(separator: ", ") + "]"
        return "  ssid \(row.index)\(labels): \(typeList(row.types))\n"
    }

    private func typeList(_ types: [String]) -> String {
        types.isEmpty ? "(no types)" : types.joined(separator: " ")
    }

    /// The JSON report.
    public func json(diagnostics: [Diagnostic]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("file", .string(file)),
            ("format", .string(policy.format.rawValue)),
            ("target", .string(policy.format.target.rawValue)),
            ("length", .int(Int(header.length))),
            ("policy_version", .int(Int(policy.format.policyVersion))),
        ]
        if let name = policy.policyName { members.append(("policy_name", .string(name))) }
        if policy.format.hasVersion { members.append(("version", .string(policy.version.description))) }
        if policy.format == .g4 { members.append(("xml_sha1", .string(hex(policy.xmlHash)))) }
        if let offset = header.policyReferenceOffset { members.append(("policy_reference_offset", .int(Int(offset)))) }
        members.append(("primary", componentHeader(policy.primary, code: header.primaryCode, offset: header.primaryOffset)))
        members.append(("secondary", componentHeader(policy.secondary, code: header.secondaryCode, offset: header.secondaryOffset)))
        for component in [policy.primary, policy.secondary] {
            switch component {
            case .null: break
            case .chineseWall(let matrices):
                let names = typeNames(map?.chineseWall, count: matrices.ssids.types)
                members.append(
                    (
                        "chinese_wall",
                        .object([
                            ("types", .array(names.map { .string($0) })),
                            ("ssids", .array(rows(matrices.ssids, names: names, labels: map?.chineseWall).map(rowJSON))),
                            (
                                "conflict_sets",
                                .array(rows(matrices.conflictSets, names: names, labels: nil).map { .array($0.types.map { .string($0) }) })
                            ),
                        ])
                    ))
            case .simpleTypeEnforcement(let matrix):
                let names = typeNames(map?.ste, count: matrix.types)
                members.append(
                    (
                        "ste",
                        .object([
                            ("types", .array(names.map { .string($0) })),
                            ("ssids", .array(rows(matrix, names: names, labels: map?.ste).map(rowJSON))),
                        ])
                    ))
            }
        }
        members.append(
            ("diagnostics", .array(diagnostics.map { .string("\($0.location): \($0.severity.rawValue): \($0.message) [\($0.code)]") })))
        return .object(members)
    }

    private func componentHeader(_ component: PolicyComponent, code: UInt32, offset: UInt32) -> JSONValue {
        .object([("name", .string(component.mapName)), ("code", .int(Int(code))), ("offset", .int(Int(offset)))])
    }

    private func rowJSON(_ row: Row) -> JSONValue {
        .object([
            ("ssid", .int(row.index)), ("labels", .array(row.labels.map { .string($0) })), ("types", .array(row.types.map { .string($0) })),
        ])
    }

    private func typeNames(_ labels: ComponentLabels?, count: Int) -> [String] {
        let byIndex = labels?.typeNamesByIndex ?? [:]
        return (0..<count).map { byIndex[$0] ?? "#\($0)" }
    }

    private func rows(_ matrix: TypeMatrix, names: [String], labels: ComponentLabels?) -> [Row] {
        var labelsBySsid: [Int: [String]] = [:]
        for entry in labels?.entries ?? [] {
            labelsBySsid[entry.ssid, default: []].append(entry.kind == "ANY" ? entry.name : "\(entry.kind) \(entry.name)")
        }
        return (0..<matrix.rows).map { row in
            Row(index: row, labels: labelsBySsid[row] ?? [], types: matrix.typeIndices(ofRow: row).map { names[$0] })
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
