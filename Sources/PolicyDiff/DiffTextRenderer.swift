import PolicyDiagnostics

/// The report for a terminal: changes grouped by category with `+ - > ~` markers, then the
/// effects, then a one-line verdict. Findings are diagnostics and printed by the caller.
public struct DiffTextRenderer: Sendable {
    public init() {}

    /// The report; names and values from the inputs are shown with their control characters
    /// visible (``TerminalText/visible(_:keepingNewlines:)``).
    public func render(_ report: PolicyDiffReport) -> String {
        TerminalText.visible(renderRaw(report), keepingNewlines: true)
    }

    private func renderRaw(_ report: PolicyDiffReport) -> String {
        var out = "old: \(report.old.displayName) (\(DiffValueFormatting.summary(of: report.old)))\n"
        out += "new: \(report.new.displayName) (\(DiffValueFormatting.summary(of: report.new)))\n"
        if report.isProtocol { return out + renderProtocol(report) }
        out += "target: \(report.target)\n"
        guard report.hasChanges else { return out + "\nno changes\n" }

        for category in PolicyChange.Category.allCases {
            let changes = report.changes.filter { $0.category == category }
            guard !changes.isEmpty else { continue }
            out += "\n" + category.pluralTitle
            if category == .ssidref {
                out += report.target.usesXendNumbering ? " (running domains are relabelled)" : " (running domains keep their old number)"
            }
            out += "\n"
            for change in changes {
                out += "  \(DiffValueFormatting.marker(change.kind)) \(DiffValueFormatting.describe(change))"
                if change.kind == .typesChanged { out += " (types)" }
                if let location = change.location, location.line > 0 { out += "  [\(location)]" }
                out += "\n"
                if let hint = change.hint { out += "      hint: \(hint)\n" }
            }
        }

        out += "\neffects\n"
        for relation in report.effects.relations {
            if relation.name == "run" && !report.target.usesXendNumbering {
                out += "  run: not checked (\(report.target) has no authorization test)\n"
                continue
            }
            for (word, members) in [("gained", relation.gained), ("lost", relation.lost)] {
                guard !members.isEmpty else {
                    out += "  \(relation.name) \(word): none\n"
                    continue
                }
                out += "  \(relation.name) \(word) (\(members.count)):\n"
                for member in members {
                    out += relation.isLabelList ? "    \(member.first)\n" : "    [\(member.first), \(member.second)]\n"
                }
            }
        }
        out += "\n" + Self.verdict(report) + "\n"
        return out
    }

    /// The body of a protocol report: changes by protocol and category, then what widens.
    private func renderProtocol(_ report: PolicyDiffReport) -> String {
        guard report.hasChanges else { return "\nno changes\n" }
        var out = ""
        var protocols: [String] = []
        for change in report.changes where protocols.last != change.protocolName { protocols.append(change.protocolName ?? "") }
        for name in protocols {
            let changes = report.changes.filter { $0.protocolName == name }
            out += "\nprotocol \(name)\n"
            for category in PolicyChange.Category.allCases where category.isProtocol {
                let inCategory = changes.filter { $0.category == category }
                guard !inCategory.isEmpty else { continue }
                if category != .protocol { out += "  \(category.pluralTitle)\n" }
                for change in inCategory {
                    out += "  \(category == .protocol ? "" : "  ")\(DiffValueFormatting.marker(change.kind)) "
                    out += category == .protocol ? "protocol \(change.name)" : DiffValueFormatting.describe(change)
                    if let location = change.location, location.line > 0 { out += "  [\(location)]" }
                    out += "\n"
                    if let hint = change.hint { out += "\(category == .protocol ? "" : "  ")      note: \(hint)\n" }
                }
            }
        }
        out += "\nprotocol effects\n"
        if report.protocolWidenings.isEmpty { out += "  widened: none\n" }
        for widening in report.protocolWidenings {
            out += "  widened \(widening.kind.rawValue): \(widening.protocolName): \(widening.subject): \(widening.detail)\n"
        }
        return out + "\n" + Self.verdict(report) + "\n"
    }

    /// `12 changes; access widens: share gained 2, run gained 1`.
    static func verdict(_ report: PolicyDiffReport) -> String {
        let count = report.changes.count
        var line = "\(count) change\(count == 1 ? "" : "s"); "
        let effects = report.effects
        var widening: [String] = []
        if !effects.shareGained.isEmpty { widening.append("share gained \(effects.shareGained.count)") }
        if !effects.resourceGained.isEmpty { widening.append("resource gained \(effects.resourceGained.count)") }
        if !effects.blockLost.isEmpty { widening.append("block lost \(effects.blockLost.count)") }
        if !effects.runGained.isEmpty { widening.append("run gained \(effects.runGained.count)") }
        if !report.protocolWidenings.isEmpty { widening.append("protocol widened \(report.protocolWidenings.count)") }
        line += widening.isEmpty ? "access does not widen" : "access widens: " + widening.joined(separator: ", ")
        return line
    }
}
