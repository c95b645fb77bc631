import PolicyDiagnostics

/// The bound on what one run of the protocol front end reports (loading, parsing and checking the
/// files given and the libraries they import), as `RuleTableDecoder.errorLimit` and the trace
/// reader's `maximumDiagnostics` bound theirs.
///
/// A file of binary garbage or of stray punctuation yields a diagnostic every few bytes: hundreds of
/// thousands for a megabyte, each printed with its source line. Nobody reads past the first
/// screenful, and the rest only costs time and memory to render, so a run reports the first
/// `maximum` and one note (`N0701`) with the number of the others.
///
/// The lexer, the parser and the loader keep only those as they go (a ``DiagnosticSelection`` of
/// `maximum` each, merged in the order they report) and count the others, so a flood costs no
/// memory either: 4 MiB of `@a ` held 1.4 million diagnostics, 480 MB, until they were cut at the end.
public enum ProtocolDiagnosticLimit {
    /// How many diagnostics a run reports at most (the note `N0701` comes on top).
    public static let maximum = 200

    /// The code of the note that counts the diagnostics left out.
    public static let suppressedCode: DiagnosticCode = "N0701"

    /// `diagnostics` cut to `limit`, in their original order, followed by an `N0701` note when any
    /// were left out: ``report(_:)`` of them collected in a selection of `limit`.
    public static func apply(_ diagnostics: [Diagnostic], limit: Int = maximum) -> [Diagnostic] {
        var selection = DiagnosticSelection(limit: limit)
        selection.append(contentsOf: diagnostics)
        return report(selection)
    }

    /// What a run reports of the diagnostics collected in `selection`: those it kept, in the order
    /// reported, followed by an `N0701` note when any were left out.
    ///
    /// The selection keeps errors before warnings and notes: they are why the input is refused, and
    /// a flood of warnings must not hide them. Within a severity the ones that print first (by file,
    /// line and column) are kept. The note sits at the location of the last kept diagnostic, so that
    /// it prints last; the status of the run is unaffected, since an input with errors keeps some.
    public static func report(_ selection: DiagnosticSelection) -> [Diagnostic] {
        var result = selection.kept
        guard selection.omittedCount > 0, let last = result.max(by: { $0.location < $1.location }) else { return result }
        // Each severity's count less the kept ones of it.
        func omitted(_ severity: Severity) -> Int { selection.count(of: severity) - result.count { $0.severity == severity } }
        let words: [(Severity, String)] = [(.error, "error"), (.warning, "warning"), (.note, "note")]
        let counts = words.compactMap { severity, word -> String? in
            let n = omitted(severity)
            return n == 0 ? nil : n == 1 ? "1 \(word)" : "\(n) \(word)s"
        }.joined(separator: ", ")
        result.append(
            Diagnostic(
                .note, suppressedCode,
                "\(selection.omittedCount) more diagnostics (\(counts)) were counted but not shown "
                    + "(at most \(selection.limit) are reported a run)",
                at: last.location, hint: "fix the first ones and run again; later ones are often their consequences"))
        return result
    }
}
