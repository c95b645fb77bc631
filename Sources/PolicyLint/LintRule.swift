import PolicyDiagnostics

/// A lint rule of any subject: a type with a static description (SwiftLint's shape), so that the
/// catalogue, `--explain`, SARIF and the tests all read the same facts.
public protocol LintRule: Sendable {
    static var description: RuleDescription { get }
}

extension LintRule {
    /// The rule's description, through an instance.
    public var description: RuleDescription { Self.description }
}

/// A rule over ACM policies.
public protocol PolicyLintRule: LintRule {
    init()
    /// Reports the rule's findings. Must be linear in the size of the policy: use dictionaries, not
    /// nested loops over labels.
    func check(_ context: PolicyLintContext, into sink: inout FindingSink)
}

/// A rule over `.xpd` protocol descriptions: run once per checked protocol.
public protocol ProtocolLintRule: LintRule {
    init()
    /// Reports the rule's findings about one protocol. Must be linear (or near it) in the size of the
    /// description and of its reachable state space: index declarations by name or location.
    func check(_ context: ProtocolLintContext, into sink: inout FindingSink)
}

/// Collects one rule's findings, stamping them with the rule's ID and default severity (the linter
/// applies configured severities afterwards).
public struct FindingSink: Sendable {
    public let rule: RuleDescription
    public private(set) var findings: [Finding] = []

    public init(rule: RuleDescription) { self.rule = rule }

    /// Reports a finding at an element (or, for a protocol description, a declaration).
    public mutating func report(
        _ message: String, at location: SourceLocation?, hint: String? = nil, notes: [DiagnosticNote] = [], fix: Fix? = nil
    ) {
        // Every element carries a location; a missing one would mean a policy not read from XML.
        guard let location else { return }
        findings.append(
            Finding(rule: rule.id, severity: rule.defaultSeverity, message: message, at: location, hint: hint, notes: notes, fix: fix))
    }
}
