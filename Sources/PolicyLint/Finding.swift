import PolicyDiagnostics

/// One thing lint reports: a rule's finding, or a compiler diagnostic of a policy that does not
/// compile (then `rule` is the diagnostic code, such as `E0102`).
public struct Finding: Hashable, Sendable {
    /// The rule ID (`unused-type`) or compiler code (`E0102`).
    public var rule: String
    public var severity: LintSeverity
    /// Lower-case, no trailing period; names the offending name in quotes.
    public var message: String
    /// The element concerned (its `<`).
    public var location: SourceLocation
    public var hint: String?
    public var notes: [DiagnosticNote]
    /// A change that removes the finding without changing what the policy means, if there is one.
    public var fix: Fix?

    public init(
        rule: String, severity: LintSeverity, message: String, at location: SourceLocation, hint: String? = nil,
        notes: [DiagnosticNote] = [], fix: Fix? = nil
    ) {
        self.rule = rule
        self.severity = severity
        self.message = message
        self.location = location
        self.hint = hint
        self.notes = notes
        self.fix = fix
    }

    /// A compiler diagnostic as a finding (the code becomes the rule).
    public init(_ diagnostic: Diagnostic) {
        self.init(
            rule: diagnostic.code.rawValue, severity: LintSeverity(diagnostic.severity), message: diagnostic.message,
            at: diagnostic.location, hint: diagnostic.hint, notes: diagnostic.notes)
    }

    /// The finding as a diagnostic (info becomes a note), for renderers that take diagnostics.
    public var diagnostic: Diagnostic {
        Diagnostic(severity.diagnosticSeverity, DiagnosticCode(rawValue: rule), message, at: location, hint: hint, notes: notes)
    }
}

/// A meaning-preserving change to one input file, applied by `--fix`.
public struct Fix: Hashable, Sendable {
    /// What the change does, for the list `--fix` prints ("removed the repeated type 'Red'").
    public var summary: String
    public var edits: [TextEdit]

    public init(summary: String, edits: [TextEdit]) {
        self.summary = summary
        self.edits = edits
    }
}

/// Replace the bytes `range` of `file` with `replacement`.
public struct TextEdit: Hashable, Sendable {
    public var file: String
    /// Byte offsets into the file as read.
    public var range: Range<Int>
    public var replacement: String

    public init(file: String, range: Range<Int>, replacement: String) {
        self.file = file
        self.range = range
        self.replacement = replacement
    }
}
