import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax
import ProtocolTools

/// Loading and checking protocol descriptions, for `compile --rules`, `graph` and `replay`.
public struct ProtocolPipeline: Sendable {
    public var searchPaths: [String]

    public init(searchPaths: [String] = []) {
        self.searchPaths = searchPaths
    }

    /// Checked protocols.
    public struct Checked: Sendable {
        /// The protocols defined in the files given (not those only imported).
        public var definitions: [ProtocolDefinition]
        public var guardTexts: [[[String?]]]
        public var diagnostics: [Diagnostic]
        public var sources: SourceLines
        public var status: ExitStatus
    }

    /// Parses, resolves and analyses `paths` and their imports, reporting at most
    /// `ProtocolDiagnosticLimit.maximum` diagnostics (and a note counting the rest).
    public func check(_ paths: [String]) -> Checked {
        let loaded = ProtocolLoader(searchPaths: searchPaths).load(paths)
        let givenFiles = Set(loaded.files.prefix(loaded.givenCount).map(\.path))
        let result = ProtocolChecker().checkDetailed(loaded.files, only: givenFiles)
        let definitions = result.definitions
        let guardTexts = result.guardTexts
        // Bounded as they come: the load kept the first of the lexer's and parser's, and counted the rest.
        var diagnostics = loaded.diagnosticSelection
        diagnostics.append(contentsOf: result.diagnostics)
        let status: ExitStatus = loaded.hasIOFailure ? .usageOrIOError : diagnostics.hasErrors ? .inputError : .success
        return Checked(
            definitions: definitions, guardTexts: guardTexts, diagnostics: ProtocolDiagnosticLimit.report(diagnostics),
            sources: loaded.sources, status: status)
    }

    /// Graphviz DOT for each protocol defined in `paths`.
    public func graph(_ paths: [String]) -> (dot: String, checked: Checked) {
        let checked = check(paths)
        guard checked.status == .success else { return ("", checked) }
        let dot = zip(checked.definitions, checked.guardTexts).map { GraphvizRenderer.render($0, guards: $1) }.joined(separator: "\n")
        return (dot, checked)
    }
}
