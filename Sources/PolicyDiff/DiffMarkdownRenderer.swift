import PolicyDiagnostics

/// The report as a pull-request comment: a verdict and summary tables first, the details after.
///
/// Lists are cut at `itemLimit` entries each (a GitHub comment holds at most 65,536 characters);
/// `--format json` has them all.
public struct DiffMarkdownRenderer: Sendable {
    /// The most entries shown per list.
    public var itemLimit: Int

    public init(itemLimit: Int = 50) {
        self.itemLimit = itemLimit
    }

    public func render(_ report: PolicyDiffReport) -> String {
        if report.isProtocol { return renderProtocol(report) }
        var out = "### Policy diff: \(title(report.old)) → \(title(report.new))\n\n"
        out += "OLD \(code(report.old.displayName)) (\(DiffValueFormatting.summary(of: report.old))), "
        out += "NEW \(code(report.new.displayName)) (\(DiffValueFormatting.summary(of: report.new))); "
        out += "ssidrefs and rules of **\(report.target)**.\n\n"
        guard report.hasChanges else { return out + "**No changes.**\n" + findings(report) }
        out += report.widensAccess ? "**Access widens.**" : "**Access does not widen.**"
        out += " \(report.changes.count) change\(report.changes.count == 1 ? "" : "s")"
        let warnings = report.diagnostics.count { $0.severity != .note }
        if warnings > 0 { out += ", \(warnings) update finding\(warnings == 1 ? "" : "s")" }
        out += ".\n\n"

        // Summary tables.
        let kinds = PolicyChange.Kind.allCases
        let categories = PolicyChange.Category.allCases.filter { category in report.changes.contains { $0.category == category } }
        if !categories.isEmpty {
            out += "| change | " + kinds.map(\.title).joined(separator: " | ") + " |\n"
            out += "|---|" + kinds.map { _ in "--:|" }.joined() + "\n"
            for category in categories {
                out += "| \(category.pluralTitle) | "
                out += kinds.map { kind in
                    let count = report.count(category, kind)
                    return count == 0 ? "" : String(count)
                }.joined(separator: " | ")
                out += " |\n"
            }
            out += "\n"
        }
        out += "| effect | gained | lost |\n|---|--:|--:|\n"
        for relation in report.effects.relations {
            if relation.name == "run" && !report.target.usesXendNumbering {
                out += "| run | n/a | n/a |\n"
                continue
            }
            let gained = relation.gainWidens && !relation.gained.isEmpty ? "**\(relation.gained.count)**" : "\(relation.gained.count)"
            let lost = !relation.gainWidens && !relation.lost.isEmpty ? "**\(relation.lost.count)**" : "\(relation.lost.count)"
            out += "| \(relation.name) | \(gained) | \(lost) |\n"
        }
        out += "\nBold counts widen access.\n"

        // Details.
        if !report.changes.isEmpty {
            out += "\n#### Changes\n"
            for category in categories {
                let changes = report.changes.filter { $0.category == category }
                out += "\n**\(category.pluralTitle)**"
                if category == .ssidref {
                    out +=
                        report.target.usesXendNumbering ? " (running domains are relabelled)" : " (running domains keep their old number)"
                }
                out += "\n\n"
                for change in changes.prefix(itemLimit) {
                    out += "- \(change.kind.title): "
                    out += DiffValueFormatting.describe(change, quote: code, arrow: "→")
                    if let hint = change.hint { out += " — _\(escape(hint))_" }
                    out += "\n"
                }
                out += more(changes.count)
            }
        }
        if !report.effects.isEmpty {
            out += "\n#### Effects\n"
            for relation in report.effects.relations {
                for (word, members) in [("gained", relation.gained), ("lost", relation.lost)] where !members.isEmpty {
                    out += "\n**\(relation.name) \(word)** (\(members.count))\n\n"
                    let separator = relation.name == "block" ? " → " : relation.name == "resource" ? " – " : " ↔ "
                    for member in members.prefix(itemLimit) {
                        out +=
                            relation.isLabelList
                            ? "- \(code(member.first))\n" : "- \(code(member.first))\(separator)\(code(member.second))\n"
                    }
                    out += more(members.count)
                }
            }
        }
        return out + findings(report)
    }

    /// A protocol report: verdict, a summary table by category, what widens, then the changes by protocol.
    private func renderProtocol(_ report: PolicyDiffReport) -> String {
        var out = "### Protocol diff: \(code(report.old.displayName)) → \(code(report.new.displayName))\n\n"
        out += "OLD \(DiffValueFormatting.summary(of: report.old)); NEW \(DiffValueFormatting.summary(of: report.new)).\n\n"
        guard report.hasChanges else { return out + "**No changes.**\n" }
        out += report.widensAccess ? "**Access widens.**" : "**Access does not widen.**"
        out += " \(report.changes.count) change\(report.changes.count == 1 ? "" : "s").\n\n"
        let kinds: [PolicyChange.Kind] = [.added, .removed, .changed]
        let categories = PolicyChange.Category.allCases.filter { category in report.changes.contains { $0.category == category } }
        out += "| change | " + kinds.map(\.title).joined(separator: " | ") + " |\n"
        out += "|---|" + kinds.map { _ in "--:|" }.joined() + "\n"
        for category in categories {
            out += "| \(category.pluralTitle) | "
            out += kinds.map { kind in
                let count = report.count(category, kind)
                return count == 0 ? "" : String(count)
            }.joined(separator: " | ")
            out += " |\n"
        }
        if !report.protocolWidenings.isEmpty {
            out += "\n#### Widened\n\n"
            for widening in report.protocolWidenings.prefix(itemLimit) {
                out +=
                    "- \(code(widening.kind.rawValue)) \(code(widening.protocolName)) \(code(widening.subject)): \(escape(widening.detail))\n"
            }
            out += more(report.protocolWidenings.count)
        }
        out += "\n#### Changes\n"
        var protocols: [String] = []
        for change in report.changes where protocols.last != change.protocolName { protocols.append(change.protocolName ?? "") }
        for name in protocols {
            let changes = report.changes.filter { $0.protocolName == name }
            out += "\n**protocol \(code(name))**\n\n"
            for change in changes.prefix(itemLimit) {
                out += "- \(change.kind.title) \(change.category.title): "
                out += DiffValueFormatting.describe(change, quote: code, arrow: "→")
                if let hint = change.hint { out += " — _\(escape(hint))_" }
                out += "\n"
            }
            out += more(changes.count)
        }
        return out
    }

    private func findings(_ report: PolicyDiffReport) -> String {
        guard !report.diagnostics.isEmpty else { return "" }
        var out = "\n#### Update validity\n\n"
        for diagnostic in report.diagnostics {
            out += "- \(diagnostic.severity.rawValue) `\(diagnostic.code)`: \(escape(diagnostic.message))"
            if let hint = diagnostic.hint { out += " (\(escape(hint)))" }
            if diagnostic.location.line > 0 { out += " at \(code(diagnostic.location.description))" }
            out += "\n"
        }
        return out
    }

    private func more(_ count: Int) -> String {
        count > itemLimit ? "- … and \(count - itemLimit) more (`--format json` lists all)\n" : ""
    }

    private func title(_ side: PolicyDiffReport.Side) -> String {
        guard let name = side.policyName else { return code(side.displayName) }
        return code(name) + (side.version.map { " \($0)" } ?? "")
    }

    /// A code span that survives backticks and line breaks in names.
    func code(_ text: String) -> String {
        let flat = String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        guard flat.contains("`") else { return "`\(flat)`" }
        return "`` \(flat) ``"
    }

    /// Text outside code spans: Markdown and HTML characters are escaped.
    func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#": out += "\\\(character)"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
