import PolicyDiagnostics
import PolicyLint
import Testing
import XenPolicyKit

/// Suppression by inline comment (at the element, an ancestor, the root), by configuration and on
/// the command line; severity overrides and fail levels.
@Suite struct SuppressionTests {
    /// `Blue` is a copy of `Red` (identical-label-types) and `BlueDisk` only Domain-0 can use.
    static func policy(beforeBlue: String = "", beforeResources: String = "", beforeRoot: String = "") -> String {
        """
        <?xml version="1.0"?>
        \(beforeRoot)<SecurityPolicyDefinition xmlns="http://www.ibm.com">
          <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
          <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type><Type>Blue</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
          <ChineseWall><ChineseWallTypes><Type>SystemManagement</Type><Type>Red</Type></ChineseWallTypes></ChineseWall>
          <SecurityLabelTemplate>
            <SubjectLabels bootstrap="SystemManagement">
              <VirtualMachineLabel><Name>SystemManagement</Name><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type><Type>Blue</Type></SimpleTypeEnforcementTypes><ChineseWallTypes><Type>SystemManagement</Type></ChineseWallTypes></VirtualMachineLabel>
              <VirtualMachineLabel><Name>Red</Name><SimpleTypeEnforcementTypes><Type>Red</Type></SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Red</Type></ChineseWallTypes></VirtualMachineLabel>
              \(beforeBlue)<VirtualMachineLabel><Name>Blue</Name><SimpleTypeEnforcementTypes><Type>Red</Type></SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Red</Type></ChineseWallTypes></VirtualMachineLabel>
            </SubjectLabels>
            \(beforeResources)<ObjectLabels>
              <ResourceLabel><Name>BlueDisk</Name><SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes></ResourceLabel>
            </ObjectLabels>
          </SecurityLabelTemplate>
        </SecurityPolicyDefinition>

        """
    }

    func rules(_ result: LintPipeline.Result) -> [String] { result.findings.map(\.rule).sorted() }

    @Test func unsuppressedPolicyHasBothFindings() {
        #expect(rules(LintTestSupport.lint(Self.policy())) == ["identical-label-types", "resource-label-bootstrap-only"])
    }

    @Test func commentBeforeTheElementSuppresses() {
        let result = LintTestSupport.lint(Self.policy(beforeBlue: "<!-- xen-policy-disable identical-label-types: a second tenant -->\n"))
        #expect(rules(result) == ["resource-label-bootstrap-only"])
    }

    @Test func commentsAndWhitespaceMayStandBetween() {
        let comment = "<!-- xen-policy-disable identical-label-types: a second tenant -->\n  <!-- Blue: tenant two -->\n  "
        #expect(rules(LintTestSupport.lint(Self.policy(beforeBlue: comment))) == ["resource-label-bootstrap-only"])
    }

    @Test func commentBeforeAnAncestorCoversItsSubtree() {
        let result = LintTestSupport.lint(
            Self.policy(beforeResources: "<!-- xen-policy-disable resource-label-bootstrap-only: Domain-0's disks -->\n"))
        #expect(rules(result) == ["identical-label-types"])
    }

    @Test func commentBeforeTheRootCoversTheFile() {
        let result = LintTestSupport.lint(
            Self.policy(beforeRoot: "<!-- xen-policy-disable identical-label-types, resource-label-bootstrap-only: generated -->\n"))
        #expect(result.findings.isEmpty)
    }

    @Test func commentForAnotherRuleDoesNotSuppress() {
        let result = LintTestSupport.lint(Self.policy(beforeBlue: "<!-- xen-policy-disable unused-type: no -->\n"))
        #expect(rules(result) == ["identical-label-types", "resource-label-bootstrap-only", "unused-suppression"])
    }

    @Test func suppressionWithoutReasonStillSuppressesButIsReported() {
        let result = LintTestSupport.lint(Self.policy(beforeBlue: "<!-- xen-policy-disable identical-label-types -->\n"))
        #expect(rules(result) == ["invalid-suppression", "resource-label-bootstrap-only"])
    }

    @Test func unknownRuleInCommentIsReportedWithSuggestion() {
        let result = LintTestSupport.lint(Self.policy(beforeBlue: "<!-- xen-policy-disable identical-label-type: typo -->\n"))
        let invalid = result.findings.first { $0.rule == "invalid-suppression" }
        #expect(invalid?.hint == "did you mean 'identical-label-types'?")
        #expect(rules(result).contains("identical-label-types"))
    }

    @Test func configurationDisables() throws {
        let configuration = try LintConfiguration.parse(Array(#"{"disable": ["identical-label-types"]}"#.utf8), file: "c.json")
        let result = LintTestSupport.lint(Self.policy(), selection: try RuleSelection(configuration: configuration))
        #expect(rules(result) == ["resource-label-bootstrap-only"])
    }

    @Test func commandLineDisablesAndOverridesConfiguration() throws {
        let configuration = LintConfiguration(disable: ["identical-label-types"])
        let disabled = try RuleSelection(configuration: LintConfiguration(), disable: ["resource-label-bootstrap-only"])
        #expect(rules(LintTestSupport.lint(Self.policy(), selection: disabled)) == ["identical-label-types"])
        let reenabled = try RuleSelection(configuration: configuration, enable: ["identical-label-types"])
        #expect(
            rules(LintTestSupport.lint(Self.policy(), selection: reenabled)) == ["identical-label-types", "resource-label-bootstrap-only"])
    }

    @Test func severityOverride() throws {
        let configuration = LintConfiguration(severity: ["identical-label-types": .info, "resource-label-bootstrap-only": .error])
        let result = LintTestSupport.lint(Self.policy(), selection: try RuleSelection(configuration: configuration))
        #expect(result.findings.map(\.severity) == [.info, .error])
    }

    @Test func optInRuleRunsOnlyWhenEnabled() throws {
        let source = Self.policy().replacingOccurrences(
            of: "<ChineseWallTypes><Type>Red</Type></ChineseWallTypes></VirtualMachineLabel>\n      <VirtualMachineLabel><Name>Blue",
            with: "</VirtualMachineLabel>\n      <VirtualMachineLabel><Name>Blue")
        #expect(!rules(LintTestSupport.lint(source)).contains("vm-label-without-chinese-wall-type"))
        let enabled = try RuleSelection(configuration: LintConfiguration(), enable: ["vm-label-without-chinese-wall-type"])
        #expect(rules(LintTestSupport.lint(source, selection: enabled)).contains("vm-label-without-chinese-wall-type"))
    }

    @Test func failLevelResolution() throws {
        #expect(RuleSelection().failLevel == .warning)
        #expect(try RuleSelection(configuration: LintConfiguration(failLevel: .error)).failLevel == .error)
        #expect(try RuleSelection(configuration: LintConfiguration(failLevel: .error), failLevel: .info).failLevel == .info)
    }

    @Test func directiveParsing() {
        #expect(
            SuppressionDirective(comment: " xen-policy-disable a-b, c: why not ")
                == SuppressionDirective(ids: ["a-b", "c"], reason: "why not"))
        #expect(SuppressionDirective(comment: "xen-policy-disable a") == SuppressionDirective(ids: ["a"], reason: nil))
        #expect(SuppressionDirective(comment: "xen-policy-disable a:   ") == SuppressionDirective(ids: ["a"], reason: nil))
        #expect(SuppressionDirective(comment: "xen-policy-disabled a: b") == nil)
        #expect(SuppressionDirective(comment: "see xen-policy-disable a: b") == nil)
    }
}

extension SuppressionDirective {
    init(ids: [String], reason: String?) {
        self = SuppressionDirective(comment: "xen-policy-disable x")!
        self.ruleIDs = ids
        self.reason = reason
    }
}
