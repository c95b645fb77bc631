import PolicyDiagnostics

/// The report for programs: `{"changes": [...], "effects": {"share_gained": [[a, b], ...], ...}}`
/// followed, for protocol descriptions only, by `protocol_widened` (`[{"protocol", "kind", "subject",
/// "detail"}, ...]`), then `target` (null for protocol descriptions), `old`, `new`, `access_widens` and
/// `diagnostics`. Keys keep this order.
public struct DiffJSONRenderer: Sendable {
    public init() {}

    /// The JSON text; `inputDiagnostics` (problems found reading the inputs) precede the findings.
    ///
    /// The text is exactly `json(report).rendered()`, but the effect lists, which can hold millions of
    /// pairs, are written directly: a `JSONValue` per pair costs more than computing the diff.
    public func render(_ report: PolicyDiffReport, inputDiagnostics: [Diagnostic] = []) -> String {
        guard case .object(let members) = json(report, inputDiagnostics: inputDiagnostics, withEffectLists: false) else { return "" }
        var out = "{\n"
        for (index, (key, value)) in members.enumerated() {
            out += "  " + Self.quoted(key) + ": "
            if key == "effects" {
                writeEffects(report.effects, into: &out)
            } else {
                // JSON strings never hold a raw line break, so indenting every line nests a rendered value.
                out += value.rendered().dropLast().split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
            }
            out += index + 1 < members.count ? ",\n" : "\n"
        }
        return out + "}\n"
    }

    /// The `effects` object as `JSONValue` lays out a member of the top-level object: pairs one per
    /// line, label lists on one line, empty lists as `[]`.
    private func writeEffects(_ effects: PolicyEffects, into out: inout String) {
        var quotedNames: [String: String] = [:]
        func quoted(_ name: String) -> String {
            if let cached = quotedNames[name] { return cached }
            let text = Self.quoted(name)
            quotedNames[name] = text
            return text
        }
        func pairs(_ list: [PolicyEffects.Pair]) {
            guard !list.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, pair) in list.enumerated() {
                out += "      ["
                out += quoted(pair.first)
                out += ", "
                out += quoted(pair.second)
                out += index + 1 < list.count ? "],\n" : "]\n"
            }
            out += "    ]"
        }
        func labels(_ list: [String]) { out += "[" + list.map(quoted).joined(separator: ", ") + "]" }
        let lists: [(String, [PolicyEffects.Pair]?, [String]?)] = [
            ("share_gained", effects.shareGained, nil), ("share_lost", effects.shareLost, nil),
            ("resource_gained", effects.resourceGained, nil), ("resource_lost", effects.resourceLost, nil),
            ("block_gained", effects.blockGained, nil), ("block_lost", effects.blockLost, nil),
            ("run_gained", nil, effects.runGained), ("run_lost", nil, effects.runLost),
        ]
        out += "{\n"
        for (index, (key, pairList, labelList)) in lists.enumerated() {
            out += "    " + Self.quoted(key) + ": "
            if let pairList { pairs(pairList) }
            if let labelList { labels(labelList) }
            out += index + 1 < lists.count ? ",\n" : "\n"
        }
        out += "  }"
    }

    /// A string as `JSONValue` writes it, quotes included.
    private static func quoted(_ text: String) -> String {
        String(JSONValue.string(text).rendered().dropLast())
    }

    /// The report as a JSON value.
    public func json(_ report: PolicyDiffReport, inputDiagnostics: [Diagnostic] = []) -> JSONValue {
        json(report, inputDiagnostics: inputDiagnostics, withEffectLists: true)
    }

    /// The report; without effect lists the lists are left empty (`render` writes them itself).
    private func json(_ report: PolicyDiffReport, inputDiagnostics: [Diagnostic], withEffectLists: Bool) -> JSONValue {
        let effects = withEffectLists ? report.effects : PolicyEffects()
        func pairs(_ list: [PolicyEffects.Pair]) -> JSONValue {
            .array(list.map { .array([.string($0.first), .string($0.second)]) })
        }
        var members: [(String, JSONValue)] = [
            ("changes", .array(report.changes.map(change))),
            (
                "effects",
                .object([
                    ("share_gained", pairs(effects.shareGained)),
                    ("share_lost", pairs(effects.shareLost)),
                    ("resource_gained", pairs(effects.resourceGained)),
                    ("resource_lost", pairs(effects.resourceLost)),
                    ("block_gained", pairs(effects.blockGained)),
                    ("block_lost", pairs(effects.blockLost)),
                    ("run_gained", .array(effects.runGained.map { .string($0) })),
                    ("run_lost", .array(effects.runLost.map { .string($0) })),
                ])
            ),
            ("target", report.isProtocol ? .null : .string(report.target.rawValue)),
            ("old", side(report.old)),
            ("new", side(report.new)),
            ("access_widens", .bool(report.widensAccess)),
            ("diagnostics", .array((inputDiagnostics + report.diagnostics).map(Self.diagnostic))),
        ]
        // Protocol reports list what widens after the (empty) effects; policy reports keep the shape.
        if report.isProtocol {
            let widened: JSONValue = .array(
                report.protocolWidenings.map {
                    .object([
                        ("protocol", .string($0.protocolName)), ("kind", .string($0.kind.rawValue)),
                        ("subject", .string($0.subject)), ("detail", .string($0.detail)),
                    ])
                })
            members.insert(("protocol_widened", widened), at: 2)
        }
        return .object(members)
    }

    private func change(_ change: PolicyChange) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("category", .string(change.category.rawValue)),
            ("kind", .string(change.kind.rawValue)),
            ("name", .string(change.name)),
        ]
        if let protocolName = change.protocolName { members.append(("protocol", .string(protocolName))) }
        if let attribute = change.attribute { members.append(("attribute", .string(attribute))) }
        if let oldName = change.oldName { members.append(("old_name", .string(oldName))) }
        if let labelKind = change.labelKind { members.append(("label", .string(labelKind == "RES" ? "resource" : "vm"))) }
        if let old = change.oldValue { members.append(("old", value(old, of: change.category))) }
        if let new = change.newValue { members.append(("new", value(new, of: change.category))) }
        if let location = change.location {
            members += [("file", .string(location.file)), ("line", .int(location.line)), ("column", .int(location.column))]
        }
        if let hint = change.hint { members.append(("hint", .string(hint))) }
        return .object(members)
    }

    /// A value; VM label types always carry `chinese_wall` (null without a types element), resource
    /// labels never.
    private func value(_ value: PolicyChange.Value, of category: PolicyChange.Category) -> JSONValue {
        func list(_ names: [String]?) -> JSONValue { names.map { .array($0.map { .string($0) }) } ?? .null }
        switch value {
        case .text(let text): return .string(text)
        case .types(let names): return list(names)
        case .labelTypes(let ste, let chineseWall):
            var members: [(String, JSONValue)] = [("ste", list(ste))]
            if category == .vmLabel { members.append(("chinese_wall", list(chineseWall))) }
            return .object(members)
        case .ssidref(let ssidref): return ssidref.map { .string(DiffValueFormatting.hex($0)) } ?? .null
        }
    }

    private func side(_ side: PolicyDiffReport.Side) -> JSONValue {
        if let protocols = side.protocols {
            return .object([
                ("input", .string(side.displayName)), ("protocols", .array(protocols.map { .string($0) })),
                ("rule_table", .bool(side.isBlob)),
            ])
        }
        return .object([
            ("input", .string(side.displayName)),
            ("generation", .string(side.generation.rawValue)),
            ("policy_name", side.policyName.map { .string($0) } ?? .null),
            ("version", side.version.map { .string($0) } ?? .null),
            ("blob", .bool(side.isBlob)),
        ])
    }

    /// The same shape as `--format json` diagnostics elsewhere (see docs/diagnostics.md).
    static func diagnostic(_ diagnostic: Diagnostic) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("severity", .string(diagnostic.severity.rawValue)),
            ("code", .string(diagnostic.code.rawValue)),
            ("message", .string(diagnostic.message)),
            ("file", .string(diagnostic.location.file)),
            ("line", .int(diagnostic.location.line)),
            ("column", .int(diagnostic.location.column)),
        ]
        if let hint = diagnostic.hint { members.append(("hint", .string(hint))) }
        if !diagnostic.notes.isEmpty {
            members.append(
                (
                    "notes",
                    .array(
                        diagnostic.notes.map { note in
                            var noteMembers: [(String, JSONValue)] = [("message", .string(note.message))]
                            if let location = note.location {
                                noteMembers += [
                                    ("file", .string(location.file)), ("line", .int(location.line)), ("column", .int(location.column)),
                                ]
                            }
                            return .object(noteMembers)
                        })
                ))
        }
        return .object(members)
    }
}
