import PolicyDiagnostics

/// How serious a lint finding is. Ordered, so that `--fail-level` can compare.
public enum LintSeverity: String, CaseIterable, Comparable, Sendable {
    /// Worth knowing; never fails a run unless `--fail-level info`.
    case info
    /// Probably wrong; fails a run at the default `--fail-level warning`.
    case warning
    /// Wrong: Xen will refuse or silently mis-enforce what the policy says.
    case error

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: LintSeverity, rhs: LintSeverity) -> Bool { lhs.rank < rhs.rank }

    /// The compiler's severity for the same level (info becomes a note).
    public var diagnosticSeverity: Severity {
        switch self {
        case .info: .note
        case .warning: .warning
        case .error: .error
        }
    }

    /// The lint level of a compiler diagnostic.
    public init(_ severity: Severity) {
        switch severity {
        case .note: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}

/// What a rule is about; the catalogue groups rules by it.
public enum RuleCategory: String, CaseIterable, Sendable {
    /// Xen refuses, or silently enforces something other than what the policy says.
    case correctness
    /// Names that break the tools around the hypervisor (map files, label strings) or confuse readers.
    case naming
    /// Declarations that do nothing or repeat others.
    case redundancy
    /// The lint suppressions themselves.
    case suppression
}

/// The kind of input a rule examines. Rules declare it so that each input kind runs only its own
/// rules and the catalogue can say where each applies.
public enum LintSubject: String, CaseIterable, Sendable {
    /// ACM policy XML of any generation (with its label template for Xen 3.0.2).
    case policy
    /// `.xpd` protocol descriptions (with the libraries they import).
    case protocolDescription = "protocol"
    /// Every input kind: the suppression checks, which look at comments, not at the subject.
    case any
}
