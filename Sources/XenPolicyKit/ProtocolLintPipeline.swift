import PolicyDiagnostics
import PolicyLint
import ProtocolChecker
import ProtocolSyntax

/// `xen-policy lint` of `.xpd` protocol descriptions: load the file and its imports, check them as
/// `xen-policyc compile --rules` does, then run the protocol rules over each protocol the file
/// defines and apply the `//` suppressions.
extension LintPipeline {
    /// Lints a protocol description from disk; imports are found beside it, then in `searchPaths`.
    func lintProtocolDescription(_ input: LintInput) -> Result {
        let loaded = ProtocolLoader(searchPaths: searchPaths).load([input.path])
        let files = zip(loaded.files, loaded.trivia).map { ($0, $1) }
        return lintProtocols(
            files, input: input, sources: loaded.sources, loadDiagnostics: loaded.diagnosticSelection, hasIOFailure: loaded.hasIOFailure)
    }

    /// Lints protocol description text held in memory, as if read from `path` (imports cannot be
    /// resolved: the text must define everything it extends).
    public func lint(protocolDescription bytes: [UInt8], path: String) -> Result {
        let parsed = Parser.parse(source: bytes, file: path, diagnosticLimit: ProtocolDiagnosticLimit.maximum)
        let (file, trivia) = (parsed.file, parsed.trivia)
        var sources = SourceLines()
        sources.add(file: path, contents: bytes)
        var loadDiagnostics = parsed.diagnostics
        for name in file.imports {
            loadDiagnostics.append(
                .error("E0720", "cannot find library '\(name.name)' (imports are not resolved for text in memory)", at: name.location))
        }
        return lintProtocols(
            [(file, trivia)], input: LintInput(kind: .protocolDescription, path: path), sources: sources,
            loadDiagnostics: loadDiagnostics, hasIOFailure: false)
    }

    private func lintProtocols(
        _ files: [(SourceFile, SourceTrivia)], input: LintInput, sources: SourceLines, loadDiagnostics: DiagnosticSelection,
        hasIOFailure: Bool
    ) -> Result {
        var result = Result(input: input, findings: [], sources: sources, target: nil, fixed: [], status: .success)
        // Protocols of imported files are bases for `extends` only, as for `xen-policyc compile --rules`.
        let checked = ProtocolChecker().checkDetailed(files.map(\.0), only: [input.path])
        // A description that does not check is reported with the checker's diagnostics, like a policy
        // that does not compile; otherwise its warnings are left to `xen-policyc compile --rules`.
        var diagnostics = loadDiagnostics
        diagnostics.append(contentsOf: checked.diagnostics)
        if hasIOFailure || diagnostics.hasErrors {
            // Bounded as for `compile --rules`: a file of garbage is a flood of syntax errors.
            result.findings = ProtocolDiagnosticLimit.report(diagnostics).map(Finding.init).sorted { $0.location < $1.location }
            result.status = hasIOFailure ? .usageOrIOError : .inputError
            return result
        }
        var units: [String: Unit] = [:]
        for (file, _) in files {
            for unit in file.units where units[unit.name.name] == nil { units[unit.name.name] = unit }
        }
        // The protocols of the input itself; those of imported files are linted with their own file.
        let contexts = checked.analyses.filter { $0.location.file == input.path }.map {
            ProtocolLintContext(analysis: $0, units: units)
        }
        result.protocols = contexts.map(\.definition.name)
        result.findings = ProtocolLinter(selection: selection).lint(
            contexts, files: files.map { ProtocolLinter.File(path: $0.0.path, trivia: $0.1) }, input: input.path)
        return result
    }
}
