import PolicyDiagnostics

/// Renders findings: text like a compiler's, the lint JSON, SARIF 2.1.0, and GitHub workflow annotations.
public enum FindingRenderer {
    // MARK: - Text

    /// `file:line:col: warning: message [rule]` with the source line and a caret, hint and notes; then
    /// a summary line when there are findings.
    public static func text(_ findings: [Finding], sources: any SourceLineProvider, colored: Bool, files: Int) -> String {
        var out = ""
        let terminal = TerminalText(colored: colored)
        for finding in findings {
            out += terminal.paint("\(TerminalText.visible(finding.location.description)): ", .bold)
            out += terminal.paint("\(finding.severity.rawValue): ", color(for: finding.severity))
            out += terminal.paint("\(TerminalText.visible(finding.message)) [\(finding.rule)]", .bold) + "\n"
            out += terminal.excerpt(at: finding.location, sources: sources)
            if let hint = finding.hint { out += terminal.paint("hint: ", .boldCyan) + TerminalText.visible(hint) + "\n" }
            for note in finding.notes {
                if let location = note.location {
                    out += terminal.paint("\(TerminalText.visible(location.description)): ", .bold) + terminal.paint("note: ", .bold)
                    out += TerminalText.visible(note.message) + "\n"
                    out += terminal.excerpt(at: location, sources: sources)
                } else {
                    out += terminal.paint("note: ", .bold) + TerminalText.visible(note.message) + "\n"
                }
            }
        }
        if !findings.isEmpty {
            let counts = LintSeverity.allCases.reversed().map { severity in
                let n = findings.count { $0.severity == severity }
                return severity == .info ? "\(n) info" : "\(n) \(severity.rawValue)\(n == 1 ? "" : "s")"
            }
            out += "\(counts.joined(separator: ", ")) in \(files) file\(files == 1 ? "" : "s")\n"
        }
        return out
    }

    private static func color(for severity: LintSeverity) -> TerminalText.Style {
        switch severity {
        case .error: .boldRed
        case .warning: .boldYellow
        case .info: .bold
        }
    }

    // MARK: - JSON

    /// `{"findings": [{"rule", "severity", "file", "line", "column", "message"}, …]}`, nothing else.
    public static func json(_ findings: [Finding]) -> String {
        JSONValue.object([
            (
                "findings",
                .array(
                    findings.map { finding in
                        .object([
                            ("rule", .string(finding.rule)),
                            ("severity", .string(finding.severity.rawValue)),
                            ("file", .string(finding.location.file)),
                            ("line", .int(finding.location.line)),
                            ("column", .int(finding.location.column)),
                            ("message", .string(finding.message)),
                        ])
                    })
            )
        ]).rendered()
    }

    // MARK: - SARIF

    /// A SARIF 2.1.0 log with one run. The driver lists the rules that ran with their summaries and
    /// documentation pages (and the compiler codes that occur, with their IDs only); each result refers
    /// to its rule by index.
    public static func sarif(_ findings: [Finding], rules: [RuleDescription], toolVersion: String) -> String {
        var ruleIDs = rules.map(\.id)
        for finding in findings where !ruleIDs.contains(finding.rule) { ruleIDs.append(finding.rule) }
        let ruleIndex = Dictionary(ruleIDs.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let ruleObjects: [JSONValue] = ruleIDs.map { id in
            guard let rule = rules.first(where: { $0.id == id }) else {
                return .object([("id", .string(id))])
            }
            let documentation = LintDocumentation.page(for: id)
            var members: [(String, JSONValue)] = [
                ("id", .string(id)),
                ("name", .string(id)),
                ("shortDescription", .object([("text", .string(rule.summary))])),
                ("fullDescription", .object([("text", .string(rule.summary))])),
            ]
            if let documentation {
                members.append(("help", .object([("text", .string(documentation)), ("markdown", .string(documentation))])))
            }
            // No helpUri: SARIF wants an absolute URI and the pages live in the repository, so the page
            // itself travels as `help`.
            members += [
                ("defaultConfiguration", .object([("level", .string(sarifLevel(rule.defaultSeverity)))])),
                (
                    "properties",
                    .object([("category", .string(rule.category.rawValue)), ("tags", .array([.string(rule.category.rawValue)]))])
                ),
            ]
            return .object(members)
        }
        let results: [JSONValue] = findings.map { finding in
            var text = finding.message
            if let hint = finding.hint { text += " (\(hint))" }
            var region: [(String, JSONValue)] = []
            if finding.location.line > 0 { region.append(("startLine", .int(finding.location.line))) }
            if finding.location.column > 0 { region.append(("startColumn", .int(finding.location.column))) }
            var physical: [(String, JSONValue)] = [("artifactLocation", .object([("uri", .string(finding.location.file))]))]
            if !region.isEmpty { physical.append(("region", .object(region))) }
            return .object([
                ("ruleId", .string(finding.rule)),
                ("ruleIndex", .int(ruleIndex[finding.rule] ?? 0)),
                ("level", .string(sarifLevel(finding.severity))),
                ("message", .object([("text", .string(text))])),
                ("locations", .array([.object([("physicalLocation", .object(physical))])])),
            ])
        }
        let driver: JSONValue = .object([
            ("name", "xen-policy lint"),
            ("version", .string(toolVersion)),
            ("rules", .array(ruleObjects)),
        ])
        return JSONValue.object([
            ("version", "2.1.0"),
            ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"),
            ("runs", .array([.object([("tool", .object([("driver", driver)])), ("results", .array(results))])])),
        ]).rendered()
    }

    private static func sarifLevel(_ severity: LintSeverity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    // MARK: - GitHub

    /// GitHub Actions workflow commands: `::warning file=F,line=L,col=C,title=ID::message`.
    public static func github(_ findings: [Finding]) -> String {
        findings.map { finding in
            let command =
                switch finding.severity {
                case .error: "error"
                case .warning: "warning"
                case .info: "notice"
                }
            var properties = [("file", finding.location.file)]
            if finding.location.line > 0 { properties.append(("line", "\(finding.location.line)")) }
            if finding.location.column > 0 { properties.append(("col", "\(finding.location.column)")) }
            properties.append(("title", finding.rule))
            var message = finding.message
            if let hint = finding.hint { message += " (\(hint))" }
            return GitHubAnnotation.command(command, properties, message)
        }.joined()
    }
}
