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
        let errors = diagnostics.count { $0.severity == .error }
        let warnings = diagnostics.count { $0.severity == .warning }
        if errors + warnings > 0 {
            out += "\(plural(errors, "error")), \(plural(warnings, "warning")) generated\n"
        }
        return out
    }

    /// One diagnostic with its excerpt.
    public func render(_ diagnostic: Diagnostic) -> String {
        var out = paint("\(diagnostic.location): ", .bold)
        out += paint("\(diagnostic.severity.rawValue): ", color(for: diagnostic.severity))
        out += paint("\(diagnostic.message) [\(diagnostic.code)]", .bold) + "\n"
        out += excerpt(at: diagnostic.location)
        if let hint = diagnostic.hint {
            out += paint("hint: ", .boldCyan) + hint + "\n"
        }
        for note in diagnostic.notes {
            if let location = note.location {
                out += paint("\(location): ", .bold) + paint("note: ", .bold) + note.message + "\n"
                out += excerpt(at: location)
            } else {
                out += paint("note: ", .bold) + note.message + "\n"
            }
        }
        return out
    }

    private func excerpt(at location: SourceLocation) -> String {
        guard location.line > 0, let text = sources.text(ofLine: location.line, in: location.file) else { return "" }
        let gutter = String(location.line)
        let pad = String(repeating: " ", count: gutter.count)
        // Tabs stay tabs under the caret so that it lines up in any terminal.
        var out = paint(" \(gutter) | ", .cyan) + text + "\n"
        if location.column > 0 {
            let prefix = text.utf8.prefix(location.column - 1)
            let spacing = String(decoding: prefix, as: UTF8.self).map { $0 == "\t" ? "\t" : " " }.joined()
            out += paint(" \(pad) | ", .cyan) + spacing + paint("^", .boldGreen) + "\n"
        }
        return out
    }

    private enum SGR: String {
        case bold = "1"
        case boldRed = "1;31"
        case boldYellow = "1;33"
        case boldGreen = "1;32"
        case boldCyan = "1;36"
        case cyan = "36"
    }

    private func color(for severity: Severity) -> SGR {
        switch severity {
        case .error: .boldRed
        case .warning: .boldYellow
        case .note: .bold
        }
    }

    private func paint(_ text: String, _ sgr: SGR) -> String {
        colored ? "\u{1B}[\(sgr.rawValue)m\(text)\u{1B}[0m" : text
    }

    private func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
}
