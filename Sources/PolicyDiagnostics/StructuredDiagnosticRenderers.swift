/// Machine-readable renderings of diagnostics: our JSON and SARIF 2.1.0 for code scanning.
public enum StructuredDiagnosticRenderer {
    /// `{"diagnostics": [...], "errors": N, "warnings": M}`.
    public static func json(_ diagnostics: [Diagnostic]) -> String {
        let items: [JSONValue] = diagnostics.map { diagnostic in
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
                members.append(("notes", .array(diagnostic.notes.map(noteJSON))))
            }
            return .object(members)
        }
        return JSONValue.object([
            ("diagnostics", .array(items)),
            ("errors", .int(diagnostics.count { $0.severity == .error })),
            ("warnings", .int(diagnostics.count { $0.severity == .warning })),
        ]).rendered()
    }

    /// A SARIF 2.1.0 log with one run.
    public static func sarif(_ diagnostics: [Diagnostic], toolName: String, toolVersion: String) -> String {
        let ruleIDs = Set(diagnostics.map(\.code)).sorted()
        let results: [JSONValue] = diagnostics.map { diagnostic in
            var text = diagnostic.message
            if let hint = diagnostic.hint { text += " (\(hint))" }
            var region: [(String, JSONValue)] = []
            if diagnostic.location.line > 0 { region.append(("startLine", .int(diagnostic.location.line))) }
            if diagnostic.location.column > 0 { region.append(("startColumn", .int(diagnostic.location.column))) }
            var physical: [(String, JSONValue)] = [("artifactLocation", .object([("uri", .string(diagnostic.location.file))]))]
            if !region.isEmpty { physical.append(("region", .object(region))) }
            return .object([
                ("ruleId", .string(diagnostic.code.rawValue)),
                ("level", .string(sarifLevel(diagnostic.severity))),
                ("message", .object([("text", .string(text))])),
                ("locations", .array([.object([("physicalLocation", .object(physical))])])),
            ])
        }
        let driver: JSONValue = .object([
            ("name", .string(toolName)),
            ("version", .string(toolVersion)),
            ("rules", .array(ruleIDs.map { .object([("id", .string($0.rawValue))]) })),
        ])
        return JSONValue.object([
            ("version", "2.1.0"),
            ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"),
            ("runs", .array([.object([("tool", .object([("driver", driver)])), ("results", .array(results))])])),
        ]).rendered()
    }

    private static func noteJSON(_ note: DiagnosticNote) -> JSONValue {
        var members: [(String, JSONValue)] = [("message", .string(note.message))]
        if let location = note.location {
            members += [("file", .string(location.file)), ("line", .int(location.line)), ("column", .int(location.column))]
        }
        return .object(members)
    }

    private static func sarifLevel(_ severity: Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }
}
