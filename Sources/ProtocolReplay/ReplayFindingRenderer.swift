import PolicyDiagnostics

/// Replay findings for other tools: a SARIF 2.1.0 log (code scanning, review tools) and GitHub
/// workflow annotations (a CI job that replays captured traces). Each finding points at its trace
/// line; SARIF also points at where the rule was written in the protocol description. The text and
/// JSON forms are `xen-policy replay`'s own (`Finding.json`).
public enum ReplayFindingRenderer {
    /// A SARIF log with one run: a rule per distinct rule of the findings (in the order first found),
    /// a result per finding with the trace line as its location and the rule's source as a related
    /// location. `trace` names the trace as given (`-` for standard input).
    public static func sarif(_ findings: [Finding], trace: String, messages: Int, toolVersion: String) -> String {
        var ruleIDs: [String] = []
        var ruleIndex: [String: Int] = [:]
        var ruleOrigin: [String: String] = [:]
        for finding in findings where ruleIndex[finding.rule] == nil {
            ruleIndex[finding.rule] = ruleIDs.count
            ruleIDs.append(finding.rule)
            ruleOrigin[finding.rule] = finding.origin
        }
        let rules: [JSONValue] = ruleIDs.map { id in
            var members: [(String, JSONValue)] = [
                ("id", .string(id)), ("name", .string(id)), ("shortDescription", .object([("text", .string(id))])),
            ]
            if let origin = ruleOrigin[id] { members.append(("properties", .object([("origin", .string(origin))]))) }
            return .object(members)
        }
        let results: [JSONValue] = findings.map { finding in
            var related: [JSONValue] = []
            if let (file, line, column) = sourceLocation(finding.origin) {
                related.append(
                    .object([
                        ("id", .int(1)),
                        ("message", .object([("text", .string("the rule '\(finding.rule)' is written here"))])),
                        ("physicalLocation", physicalLocation(file, line: line, column: column)),
                    ]))
            }
            if let detected = finding.detectedLine {
                related.append(
                    .object([
                        ("id", .int(2)),
                        ("message", .object([("text", .string("the deadline had passed by this line"))])),
                        ("physicalLocation", physicalLocation(trace, line: detected, column: nil)),
                    ]))
            }
            var properties: [(String, JSONValue)] = [
                ("severity", .string(finding.severity.rawValue)), ("domid", .int(finding.domid)), ("role", .string(finding.role)),
                ("protocol", .string(finding.protocolName)), ("instance", .string(finding.instance)),
            ]
            if let time = finding.time { properties.append(("time", .string(ReplayTime.iso8601(time)))) }
            if let path = finding.path { properties.append(("path", .string(path))) }
            if finding.repeats > 0 { properties.append(("repeats", .int(finding.repeats))) }
            var members: [(String, JSONValue)] = [
                ("ruleId", .string(finding.rule)),
                ("ruleIndex", .int(ruleIndex[finding.rule] ?? 0)),
                ("level", .string(level(finding.severity))),
                ("message", .object([("text", .string(text(finding)))])),
                ("locations", .array([.object([("physicalLocation", physicalLocation(trace, line: finding.line, column: nil))])])),
            ]
            if !related.isEmpty { members.append(("relatedLocations", .array(related))) }
            members.append(("properties", .object(properties)))
            return .object(members)
        }
        let driver: JSONValue = .object([
            ("name", "xen-policy replay"), ("version", .string(toolVersion)), ("rules", .array(rules)),
        ])
        let run: JSONValue = .object([
            ("tool", .object([("driver", driver)])),
            ("results", .array(results)),
            ("properties", .object([("messages", .int(messages))])),
        ])
        return JSONValue.object([
            ("version", "2.1.0"),
            ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"),
            ("runs", .array([run])),
        ]).rendered()
    }

    /// One GitHub workflow annotation: `::error file=TRACE,line=L,title=RULE::message; blamed on ...`.
    public static func github(_ finding: Finding, trace: String) -> String {
        let command =
            switch finding.severity {
            case .violation: "error"
            case .evaluation: "warning"
            case .audit: "notice"
            }
        return GitHubAnnotation.command(command, [("file", trace), ("line", "\(finding.line)"), ("title", finding.rule)], text(finding))
    }

    /// A repeat note as a GitHub annotation: `::notice file=TRACE,line=L,title=RULE::... repeated N more times`.
    public static func githubRepeat(_ finding: Finding, trace: String) -> String {
        let times = "\(finding.repeats) more time\(finding.repeats == 1 ? "" : "s")"
        return GitHubAnnotation.command(
            "notice", [("file", trace), ("line", "\(finding.line)"), ("title", finding.rule)],
            "\(finding.rule) (\(finding.severity.rawValue)) repeated \(times)")
    }

    /// The message with whom it blames, in which instance, and its repeats.
    static func text(_ finding: Finding) -> String {
        var text = finding.message + "; blamed on " + finding.role
        if finding.domid >= 0 { text += " (domain \(finding.domid))" }
        if !finding.instance.isEmpty { text += ", " + finding.instance }
        if finding.repeats > 0 { text += "; repeated \(finding.repeats) more time\(finding.repeats == 1 ? "" : "s")" }
        return text
    }

    private static func level(_ severity: Finding.Severity) -> String {
        switch severity {
        case .violation: "error"
        case .evaluation: "warning"
        case .audit: "note"
        }
    }

    private static func physicalLocation(_ file: String, line: Int, column: Int?) -> JSONValue {
        var region: [(String, JSONValue)] = []
        if line > 0 { region.append(("startLine", .int(line))) }
        if let column, column > 0 { region.append(("startColumn", .int(column))) }
        var members: [(String, JSONValue)] = [("artifactLocation", .object([("uri", .string(file))]))]
        if !region.isEmpty { members.append(("region", .object(region))) }
        return .object(members)
    }

    /// `file:line:column` of a finding's origin, split; nil when it is not one.
    static func sourceLocation(_ origin: String) -> (String, Int, Int)? {
        let parts = origin.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let line = Int(parts[parts.count - 2]), let column = Int(parts[parts.count - 1]) else { return nil }
        let file = parts.dropLast(2).joined(separator: ":")
        guard !file.isEmpty else { return nil }
        return (file, line, column)
    }
}
