/// How serious a diagnostic is.
public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
    case note
    case warning
    case error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A stable identifier such as `E0102`; documented in `docs/diagnostics.md` and never reused.
public struct DiagnosticCode: RawRepresentable, Hashable, Codable, Sendable, Comparable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: DiagnosticCode, rhs: DiagnosticCode) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A secondary message attached to a diagnostic, optionally at its own location.
public struct DiagnosticNote: Hashable, Codable, Sendable {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}

/// One problem found in the input: a value, rendered only at the edge (text, JSON, SARIF).
public struct Diagnostic: Hashable, Codable, Sendable {
    public var severity: Severity
    public var code: DiagnosticCode
    /// Lower-case, no trailing period; names the offending name in quotes.
    public var message: String
    public var location: SourceLocation
    /// A suggestion such as "did you mean 'Red'?".
    public var hint: String?
    public var notes: [DiagnosticNote]

    public init(
        _ severity: Severity,
        _ code: DiagnosticCode,
        _ message: String,
        at location: SourceLocation,
        hint: String? = nil,
        notes: [DiagnosticNote] = []
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
        self.notes = notes
    }

    /// An error diagnostic.
    public static func error(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation, hint: String? = nil,
        notes: [DiagnosticNote] = []
    ) -> Diagnostic {
        Diagnostic(.error, code, message, at: location, hint: hint, notes: notes)
    }

    /// A warning diagnostic.
    public static func warning(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation, hint: String? = nil,
        notes: [DiagnosticNote] = []
    ) -> Diagnostic {
        Diagnostic(.warning, code, message, at: location, hint: hint, notes: notes)
    }
}
