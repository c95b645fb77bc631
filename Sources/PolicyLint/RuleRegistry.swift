import PolicyDiagnostics

/// Every rule, by subject. The catalogue in `docs/lint/` lists exactly these (a test keeps them in sync).
public enum RuleRegistry {
    /// The rules run over ACM policies, in catalogue order.
    public static let policyRules: [any PolicyLintRule] = [
        ConflictingTypesInLabelRule(),
        VMLabelNotAuthorizedRule(),
        VMLabelBlockedByBootstrapRule(),
        VMLabelWithoutSTETypeRule(),
        SmallConflictSetRule(),
        ResourceLabelBootstrapOnlyRule(),
        VMLabelWithoutChineseWallTypeRule(),
        NameWhitespaceOrColonRule(),
        NamesDifferOnlyInCaseRule(),
        ReservedLabelNameRule(),
        DuplicateConflictSetNameRule(),
        UnusedTypeRule(),
        IdenticalLabelTypesRule(),
        DuplicateLabelTypeRule(),
    ]

    /// The rules the linter itself reports while applying suppressions, for every subject.
    public static let suppressionRules: [any LintRule] = [InvalidSuppressionRule(), UnusedSuppressionRule()]

    /// The rules run over `.xpd` protocol descriptions, in catalogue order.
    public static let protocolRules: [any ProtocolLintRule] = [
        UnwrittenKeyRule(),
        UnreadKeyRule(),
        UnreachableStateRule(),
        StateWithoutExpectationRule(),
        AlwaysNeverHoldsRule(),
        AlwaysNeverFailsRule(),
        ExpectationNeverArmedRule(),
        TurnBlamesSeveralRule(),
        DeprecatedKeyRequiredRule(),
        UnusedRoleRule(),
        UnusedPredicateRule(),
    ]

    /// Every rule's description, in catalogue order.
    public static let descriptions: [RuleDescription] =
        policyRules.map(\.description) + protocolRules.map(\.description) + suppressionRules.map(\.description)

    private static let byID: [String: RuleDescription] = Dictionary(
        descriptions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

    /// The rule with this ID.
    public static func description(of id: String) -> RuleDescription? { byID[id] }

    /// "did you mean …?" for a mistyped rule ID: the known ID with the smallest edit distance, if close.
    public static func suggestion(for id: String) -> String? {
        NameSuggestion.hint(for: id, in: descriptions.map(\.id), limit: max(2, id.count / 3))
    }
}
