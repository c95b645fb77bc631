import PolicyDiagnostics
import PolicyReader

/// Runs the enabled policy rules over one policy, applies configured severities and the inline
/// suppressions, and reports the suppression rules' own findings.
public struct PolicyLinter: Sendable {
    public var selection: RuleSelection

    public init(selection: RuleSelection = RuleSelection()) {
        self.selection = selection
    }

    /// The findings that remain after suppression, in source order.
    public func lint(_ context: PolicyLintContext) -> [Finding] {
        var findings: [Finding] = []
        for rule in RuleRegistry.policyRules where selection.isEnabled(rule.description.id) {
            var sink = FindingSink(rule: rule.description)
            rule.check(context, into: &sink)
            findings += sink.findings
        }
        var suppressions = Suppressions(context: context, subject: .policy)
        var kept = findings.filter { !suppressions.suppresses($0) }
        // The suppression rules' own findings come after every use is counted, and may be suppressed too.
        let problems = suppressions.problems(selection: selection)
        kept += problems.filter { !suppressions.suppresses($0, countingUse: false) }
        return Self.applyingSeverities(kept, selection: selection).sorted { $0.location < $1.location }
    }

    static func applyingSeverities(_ findings: [Finding], selection: RuleSelection) -> [Finding] {
        findings.map { finding in
            var finding = finding
            if let rule = RuleRegistry.description(of: finding.rule) { finding.severity = selection.severity(of: rule) }
            return finding
        }
    }
}

/// The suppression directives of one input, by the element they stand before, and which were used.
struct Suppressions {
    struct Entry {
        var directive: SuppressionDirective
        /// The element the directive stands before.
        var element: Int
        var used: Set<String> = []
    }

    private let elements: ElementIndex
    private let subject: LintSubject
    private var entries: [Entry] = []
    private var entriesOfElement: [Int: [Int]] = [:]

    init(context: PolicyLintContext, subject: LintSubject) {
        self.elements = context.elements
        self.subject = subject
        for (index, element) in context.elements.elements.enumerated() {
            for comment in element.leadingComments {
                guard let directive = SuppressionDirective(comment: comment) else { continue }
                entriesOfElement[index, default: []].append(entries.count)
                entries.append(Entry(directive: directive, element: index))
            }
        }
    }

    /// Whether a directive at the finding's element or one of its ancestors names the finding's rule.
    mutating func suppresses(_ finding: Finding, countingUse: Bool = true) -> Bool {
        guard !entries.isEmpty, let index = elements.index(at: finding.location) else { return false }
        for element in elements.selfAndAncestors(of: index) {
            for entry in entriesOfElement[element] ?? [] where entries[entry].directive.ruleIDs.contains(finding.rule) {
                if countingUse { entries[entry].used.insert(finding.rule) }
                return true
            }
        }
        return false
    }

    /// `invalid-suppression` and `unused-suppression` findings, for the enabled ones of the two.
    func problems(selection: RuleSelection) -> [Finding] {
        let records = entries.map { entry in
            let element = elements.elements[entry.element]
            return SuppressionRecord(
                directive: entry.directive, location: element.location, before: "the suppression before <\(element.qualifiedName)>",
                used: entry.used)
        }
        return SuppressionRecord.problems(
            records, subject: subject, selection: selection, template: "<!-- xen-policy-disable RULE-ID: reason -->")
    }
}

/// One suppression directive as the suppression rules judge it.
struct SuppressionRecord {
    var directive: SuppressionDirective
    /// Where its problems are reported.
    var location: SourceLocation
    /// "the suppression before <VirtualMachineLabel>": how messages name it.
    var before: String
    /// The rules it suppressed a finding of.
    var used: Set<String>
    /// Whether `unused-suppression` may judge it (false where the rules it names could not run).
    var judgesUse = true
    /// A problem of the directive that is not about its rules (it stands before nothing).
    var misplaced: String? = nil

    /// `invalid-suppression` and `unused-suppression` findings, for the enabled ones of the two.
    /// `template` is the directive's syntax, for the hint of one that names no rule.
    static func problems(
        _ records: [SuppressionRecord], subject: LintSubject, selection: RuleSelection, template: String
    ) -> [Finding] {
        var findings: [Finding] = []
        let invalid = InvalidSuppressionRule.description
        let unused = UnusedSuppressionRule.description
        for entry in records {
            let location = entry.location
            let before = entry.before
            if selection.isEnabled(invalid.id) {
                if let misplaced = entry.misplaced {
                    findings.append(finding(invalid, misplaced, at: location, hint: "put it right before the declaration it excuses"))
                }
                if entry.directive.ruleIDs.isEmpty {
                    findings.append(finding(invalid, "\(before) names no rule", at: location, hint: "write \(template)"))
                }
                for id in entry.directive.ruleIDs {
                    guard let rule = RuleRegistry.description(of: id) else {
                        findings.append(
                            finding(
                                invalid, "\(before) names an unknown rule '\(id)'", at: location, hint: RuleRegistry.suggestion(for: id)))
                        continue
                    }
                    if rule.subject != subject && rule.subject != .any {
                        findings.append(
                            finding(invalid, "\(before) names '\(id)', a rule for \(rule.subject.rawValue) files", at: location))
                    }
                }
                if entry.directive.reason == nil, !entry.directive.ruleIDs.isEmpty {
                    findings.append(
                        finding(
                            invalid, "\(before) gives no reason", at: location,
                            hint: "say why the finding is acceptable after a ':', so that reviewers can judge it"))
                }
            }
            if selection.isEnabled(unused.id), entry.judgesUse, entry.misplaced == nil {
                for id in entry.directive.ruleIDs where !entry.used.contains(id) {
                    // Unknown rules are invalid-suppression's; disabled rules report nothing to suppress; the
                    // suppression rules are applied after this count.
                    guard let rule = RuleRegistry.description(of: id), rule.subject == subject, selection.isEnabled(id) else { continue }
                    findings.append(
                        finding(
                            unused, "\(before) suppresses '\(id)', which reports nothing there", at: location,
                            hint: "the problem it excused is gone; delete the suppression"))
                }
            }
        }
        return findings
    }

    private static func finding(
        _ rule: RuleDescription, _ message: String, at location: SourceLocation, hint: String? = nil
    ) -> Finding {
        Finding(rule: rule.id, severity: rule.defaultSeverity, message: message, at: location, hint: hint)
    }
}
