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
        DeprecatedKeyRequiredRule(),
        UnusedRoleRule(),
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
        let limit = max(2, id.count / 3)
        let best = descriptions.map { ($0.id, editDistance(Array(id), Array($0.id))) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= limit else { return nil }
        return "did you mean '\(best.0)'?"
    }

    /// Levenshtein distance; rule IDs are short, so the quadratic table is a few hundred cells.
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
