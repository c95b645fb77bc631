import PolicyDiagnostics

/// The diagnostic codes of the trace readers (`E08xx`, `W08xx`, `N08xx`), documented in `docs/traces.md`.
///
/// Errors are lines that do not have the shape of their format: the line yields no event. Warnings are
/// lines that do have the shape but say something the reader cannot fully use: the line still yields
/// an event (or is skipped explicitly) and the warning says how it was taken.
public enum TraceDiagnosticCode {
    /// The first non-empty line is in none of the three formats.
    public static let unknownFormat: DiagnosticCode = "E0801"
    /// A timestamp is malformed or out of range.
    public static let badTimestamp: DiagnosticCode = "E0802"
    /// A connection column (`D5`, `D5.3`, `A2`, `(d5)`, `domid`/`socket`) is malformed.
    public static let badConnection: DiagnosticCode = "E0803"
    /// A field is missing (the line is truncated) or is not what the format has there.
    public static let malformedLine: DiagnosticCode = "E0804"
    /// A JSON line is not valid JSON or not an object.
    public static let invalidJSON: DiagnosticCode = "E0805"
    /// A JSON line lacks a required member or has one of the wrong type.
    public static let badJSONMember: DiagnosticCode = "E0806"
    /// A line is longer than the reader's limit; it is skipped without being buffered.
    public static let lineTooLong: DiagnosticCode = "E0807"
    /// Reading the trace failed; the events up to the failure were delivered.
    public static let readFailed: DiagnosticCode = "E0808"
    /// An operation the reader does not know; passed on as `.other(name)`. Reported once per name.
    public static let unknownOperation: DiagnosticCode = "W0801"
    /// A cxenstored trace line of an unknown kind; skipped.
    public static let unrecognisedLine: DiagnosticCode = "W0802"
    /// The payload of a known operation is malformed (xenstored rejects it with `EINVAL`, so it changes
    /// nothing); passed on as `.other(name)`.
    public static let malformedPayload: DiagnosticCode = "W0803"
    /// A JSON member the format does not define; ignored. Reported once per name.
    public static let unknownJSONMember: DiagnosticCode = "W0804"
    /// An oxenstored line that was probably truncated by the daemon; the event has `truncated` set.
    public static let truncatedByDaemon: DiagnosticCode = "W0805"
    /// More diagnostics than the reader keeps: the rest were counted only.
    public static let diagnosticLimit: DiagnosticCode = "N0801"
}

/// Collects a reader's diagnostics up to a limit, so that a trace with a million bad lines does not
/// hold a million diagnostics: the rest are counted, and one note at the end says how many. Parsers
/// also tell the reader through it why they skipped a line.
final class BoundedDiagnostics {
    let file: String
    let limit: Int
    private(set) var kept: [Diagnostic] = []
    private(set) var errors = 0
    private(set) var warnings = 0
    private(set) var suppressed = 0
    /// Called with each diagnostic as it is kept, on the thread that reads the trace.
    var onKept: ((Diagnostic) -> Void)?
    /// Names already reported by once-per-name warnings; bounded so that it cannot grow with the trace.
    private var reportedNames: Set<String> = []
    private static let reportedNamesLimit = 1024

    init(file: String, limit: Int) {
        self.file = file
        self.limit = max(0, limit)
    }

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    func emit(
        _ severity: Severity, _ code: DiagnosticCode, _ message: String, line: Int, column: Int, hint: String? = nil
    ) {
        switch severity {
        case .error: errors += 1
        case .warning: warnings += 1
        case .note: break
        }
        guard kept.count < limit else {
            suppressed += 1
            return
        }
        let diagnostic = Diagnostic(severity, code, message, at: location(line: line, column: column), hint: hint)
        kept.append(diagnostic)
        onKept?(diagnostic)
    }

    /// Set by a parser that skips a well-formed line (it then returns no event); taken by the reader.
    @exclusivity(unchecked) var skipReason: SkipReason?

    /// Records that the line is skipped for `reason`; returns no event.
    func skip(_ reason: SkipReason) -> TraceEvent? {
        skipReason = reason
        return nil
    }

    /// Whether `key` is reported for the first time (and remembers it).
    func firstReport(of key: String) -> Bool {
        if reportedNames.contains(key) { return false }
        if reportedNames.count < Self.reportedNamesLimit { reportedNames.insert(key) }
        return true
    }

    /// The kept diagnostics, plus the note about the suppressed ones.
    var all: [Diagnostic] {
        guard suppressed > 0 else { return kept }
        return kept + [
            Diagnostic(
                .note, TraceDiagnosticCode.diagnosticLimit,
                "\(suppressed) more diagnostics were counted but not kept (the limit is \(limit))",
                at: SourceLocation(file: file))
        ]
    }
}
