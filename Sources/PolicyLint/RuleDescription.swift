/// An example input for a rule's documentation and for the one test that runs every rule's examples.
///
/// `source` is a whole input file. In triggering examples each place the rule must report is marked
/// with `↓` written immediately before the element's `<`; the test removes the markers and expects
/// exactly those locations.
public struct RuleExample: Sendable {
    public var source: String
    /// For Xen 3.0.2 examples: the label template file (may carry markers too).
    public var labelTemplate: String?
    /// What the source is: a policy, or a self-contained `.xpd` protocol description (markers stand
    /// before the declaration or reference a finding points at).
    public var input: LintSubject

    public init(_ source: String, labelTemplate: String? = nil) {
        self.source = source
        self.labelTemplate = labelTemplate
        self.input = .policy
    }

    /// A protocol description example.
    public init(protocolDescription source: String) {
        self.source = source
        self.labelTemplate = nil
        self.input = .protocolDescription
    }

    /// The marker of an expected finding location.
    public static let marker: Character = "↓"
}

/// Everything the catalogue, `--explain`, SARIF and the tests need to know about a rule.
public struct RuleDescription: Sendable {
    /// Stable kebab-case identifier (`unused-type`): used in suppressions, configuration and output.
    /// Never renamed or reused.
    public var id: String
    public var category: RuleCategory
    public var defaultSeverity: LintSeverity
    /// Opt-in rules run only when enabled (`--enable`, or `enable` in the configuration file).
    public var isEnabledByDefault: Bool
    public var subject: LintSubject
    /// One line, lower-case start, no final period: what the rule finds.
    public var summary: String
    /// Whether `--fix` can remove its findings without changing what the policy means.
    public var isFixable: Bool
    public var triggeringExamples: [RuleExample]
    public var nonTriggeringExamples: [RuleExample]

    public init(
        id: String, category: RuleCategory, defaultSeverity: LintSeverity, isEnabledByDefault: Bool = true,
        subject: LintSubject, summary: String, isFixable: Bool = false, triggeringExamples: [RuleExample],
        nonTriggeringExamples: [RuleExample]
    ) {
        self.id = id
        self.category = category
        self.defaultSeverity = defaultSeverity
        self.isEnabledByDefault = isEnabledByDefault
        self.subject = subject
        self.summary = summary
        self.isFixable = isFixable
        self.triggeringExamples = triggeringExamples
        self.nonTriggeringExamples = nonTriggeringExamples
    }
}
