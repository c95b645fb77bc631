/// Renders diagnostics the way clang and swiftc do: a `file:line:col: severity: message [code]`
/// header, the source line with a caret under the column, then hint and notes.
public struct TextDiagnosticRenderer {
    /// Whether to emit ANSI colour (decided by the caller from the terminal and `NO_COLOR`).
    public var colored: Bool
    private let sources: any SourceLineProvider

    public init(colored: Bool, sources: any SourceLineProvider) {
        self.colored = colored
        self.sources = sources
    }

    /// The rendered text of all diagnostics followed by a one-line summary when there are any.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        for diagnostic in diagnostics {
            out += render(diagnostic)
        }
        return out + Self.summary(of: diagnostics)
    }

    /// The one-line count of errors and warnings that ends a rendering, or nothing when there are none.
    public static func summary(of diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.count { $0.severity == .error }
        let warnings = diagnostics.count { $0.severity == .warning }
        guard errors + warnings > 0 else { return "" }
        return "\(plural(errors, "error")), \(plural(warnings, "warning")) generated\n"
    }

    /// One diagnostic with its excerpt. Text from the inputs (names in messages, source lines) is
    /// printed with its control characters made visible (``TerminalText/visible(_:)``).
    public func render(_ diagnostic: Diagnostic) -> String {
        let terminal = TerminalText(colored: colored)
        var out = terminal.paint("\(TerminalText.visible(diagnostic.location.description)): ", .bold)
        out += terminal.paint("\(diagnostic.severity.rawValue): ", color(for: diagnostic.severity))
        out += terminal.paint("\(TerminalText.visible(diagnostic.message)) [\(diagnostic.code)]", .bold) + "\n"
        out += terminal.excerpt(at: diagnostic.location, sources: sources)
        if let hint = diagnostic.hint {
            out += terminal.paint("hint: ", .boldCyan) + TerminalText.visible(hint) + "\n"
        }
        for note in diagnostic.notes {
            if let location = note.location {
                out += terminal.paint("\(TerminalText.visible(location.description)): ", .bold) + terminal.paint("note: ", .bold)
                out += TerminalText.visible(note.message) + "\n"
                out += terminal.excerpt(at: location, sources: sources)
            } else {
                out += terminal.paint("note: ", .bold) + TerminalText.visible(note.message) + "\n"
            }
        }
        return out
    }

    private func color(for severity: Severity) -> TerminalText.Style {
        switch severity {
        case .error: .boldRed
        case .warning: .boldYellow
        case .note: .bold
        }
    }

    private static func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
}
