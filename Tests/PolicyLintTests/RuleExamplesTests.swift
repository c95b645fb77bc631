import PolicyDiagnostics
import PolicyLint
import Testing
import XenPolicyKit

/// Every rule's own examples (SwiftLint's shape), policies and protocol descriptions alike:
/// triggering examples report exactly at their `↓` markers, non-triggering ones report nothing, and
/// disabling the rule silences it. A rule whose check is removed or broken fails here.
@Suite struct RuleExamplesTests {
    static let ruleIDs = RuleRegistry.descriptions.map(\.id)

    @Test(arguments: ruleIDs)
    func examples(of id: String) throws {
        let rule = try #require(RuleRegistry.description(of: id))
        #expect(!rule.triggeringExamples.isEmpty, "\(id) has no triggering example")
        #expect(!rule.nonTriggeringExamples.isEmpty, "\(id) has no non-triggering example")
        for (index, example) in rule.triggeringExamples.enumerated() {
            let (result, expected) = try LintTestSupport.lint(example, enabling: id)
            #expect(LintTestSupport.compiled(result), "triggering example \(index) of \(id) does not compile: \(result.findings)")
            #expect(!expected.isEmpty, "triggering example \(index) of \(id) has no ↓ marker")
            let found = result.findings.filter { $0.rule == id }.map(\.location).sorted()
            #expect(found == expected, "triggering example \(index) of \(id): \(result.findings)")
            #expect(result.findings.filter { $0.rule == id }.allSatisfy { $0.severity == rule.defaultSeverity })

            let (silenced, _) = try LintTestSupport.lint(example, disabling: [id])
            #expect(!silenced.findings.contains { $0.rule == id }, "disabling \(id) does not silence it")
        }
        for (index, example) in rule.nonTriggeringExamples.enumerated() {
            let (result, _) = try LintTestSupport.lint(example, enabling: id)
            #expect(LintTestSupport.compiled(result), "non-triggering example \(index) of \(id) does not compile: \(result.findings)")
            #expect(!result.findings.contains { $0.rule == id }, "non-triggering example \(index) of \(id): \(result.findings)")
        }
    }

    /// A policy rule's examples are policies, a protocol rule's are protocol descriptions; the
    /// suppression rules, which apply to both, have examples of both.
    @Test func examplesAreOfTheRulesInputKind() {
        for rule in RuleRegistry.descriptions {
            let kinds = Set((rule.triggeringExamples + rule.nonTriggeringExamples).map(\.input))
            #expect(kinds == (rule.subject == .any ? [.policy, .protocolDescription] : [rule.subject]), "\(rule.id)")
        }
    }

    @Test func ruleIDsAreStableKebabCase() {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        for id in Self.ruleIDs {
            #expect(id.allSatisfy(allowed.contains) && !id.hasPrefix("-") && !id.hasSuffix("-") && !id.contains("--"), "\(id)")
        }
        #expect(Set(Self.ruleIDs).count == Self.ruleIDs.count, "rule IDs repeat")
    }

    @Test func summariesAreOneLowerCaseLine() {
        for rule in RuleRegistry.descriptions {
            #expect(!rule.summary.contains("\n") && !rule.summary.hasSuffix("."), "\(rule.id)")
            #expect(rule.summary.first?.isUppercase == false, "\(rule.id)")
        }
    }

    /// Only `duplicate-label-type` has a fix, and the catalogue says which rules are fixable.
    @Test func fixableRulesCarryFixes() throws {
        for rule in RuleRegistry.descriptions {
            for example in rule.triggeringExamples {
                let (result, _) = try LintTestSupport.lint(example, enabling: rule.id)
                let findings = result.findings.filter { $0.rule == rule.id }
                #expect(findings.allSatisfy { ($0.fix != nil) == rule.isFixable }, "\(rule.id)")
            }
        }
    }
}
