import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax

/// Parses and checks inline sources; `files` maps a file name to its text.
func checkProtocols(_ files: [(String, String)]) -> ([ProtocolDefinition], [Diagnostic]) {
    var parsed: [SourceFile] = []
    var diagnostics: [Diagnostic] = []
    for (name, text) in files {
        let (file, syntaxDiagnostics) = Parser.parse(source: Array(text.utf8), file: name)
        parsed.append(file)
        diagnostics += syntaxDiagnostics
    }
    let (definitions, checkDiagnostics) = ProtocolChecker().check(parsed)
    return (definitions, diagnostics + checkDiagnostics)
}

func describe(_ diagnostic: Diagnostic) -> String {
    "\(diagnostic.location): \(diagnostic.severity.rawValue): \(diagnostic.message) [\(diagnostic.code)]"
}
