import PolicyDiagnostics
import PolicyModel
import PolicyReader
import Testing

@testable import PolicyChecker

/// A complete Xen 3.2+ policy that checks cleanly; the tests below break one thing in a copy of it
/// or in a smaller document. One element per line, two-space indentation, so positions are easy to read off.
let goodPolicy = """
    <?xml version="1.0" encoding="UTF-8"?>
    <SecurityPolicyDefinition xmlns="http://www.ibm.com">
      <PolicyHeader>
        <PolicyName>mini</PolicyName>
        <Version>1.0</Version>
      </PolicyHeader>
      <SimpleTypeEnforcement>
        <SimpleTypeEnforcementTypes>
          <Type>SystemManagement</Type>
          <Type>Red</Type>
          <Type>Blue</Type>
        </SimpleTypeEnforcementTypes>
      </SimpleTypeEnforcement>
      <ChineseWall priority="PrimaryPolicyComponent">
        <ChineseWallTypes>
          <Type>SystemManagement</Type>
          <Type>Red</Type>
          <Type>Blue</Type>
        </ChineseWallTypes>
        <ConflictSets>
          <Conflict name="RER">
            <Type>Red</Type>
            <Type>Blue</Type>
          </Conflict>
        </ConflictSets>
      </ChineseWall>
      <SecurityLabelTemplate>
        <SubjectLabels bootstrap="SystemManagement">
          <VirtualMachineLabel>
            <Name>SystemManagement</Name>
            <SimpleTypeEnforcementTypes>
              <Type>SystemManagement</Type>
              <Type>Red</Type>
              <Type>Blue</Type>
            </SimpleTypeEnforcementTypes>
            <ChineseWallTypes>
              <Type>SystemManagement</Type>
            </ChineseWallTypes>
          </VirtualMachineLabel>
          <VirtualMachineLabel>
            <Name>Red</Name>
            <SimpleTypeEnforcementTypes>
              <Type>Red</Type>
            </SimpleTypeEnforcementTypes>
            <ChineseWallTypes>
              <Type>Red</Type>
            </ChineseWallTypes>
          </VirtualMachineLabel>
        </SubjectLabels>
        <ObjectLabels>
          <ResourceLabel>
            <Name>RedDisk</Name>
            <SimpleTypeEnforcementTypes>
              <Type>Red</Type>
            </SimpleTypeEnforcementTypes>
          </ResourceLabel>
        </ObjectLabels>
      </SecurityLabelTemplate>
    </SecurityPolicyDefinition>
    """

/// The smallest policy every target accepts: one type per component, one VM label that is the bootstrap label.
let smallPolicy = """
    <SecurityPolicyDefinition xmlns="http://www.ibm.com">
      <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
      <SimpleTypeEnforcement>
        <SimpleTypeEnforcementTypes>
          <Type>SystemManagement</Type>
        </SimpleTypeEnforcementTypes>
      </SimpleTypeEnforcement>
      <ChineseWall>
        <ChineseWallTypes>
          <Type>SystemManagement</Type>
        </ChineseWallTypes>
      </ChineseWall>
      <SecurityLabelTemplate>
        <SubjectLabels bootstrap="SystemManagement">
          <VirtualMachineLabel>
            <Name>SystemManagement</Name>
            <SimpleTypeEnforcementTypes><Type>SystemManagement</Type></SimpleTypeEnforcementTypes>
            <ChineseWallTypes><Type>SystemManagement</Type></ChineseWallTypes>
          </VirtualMachineLabel>
        </SubjectLabels>
      </SecurityLabelTemplate>
    </SecurityPolicyDefinition>
    """

extension String {
    /// `self` with exactly one occurrence of `target` replaced (the test fails otherwise).
    func with(_ target: String, replacedBy replacement: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
        #expect(ranges(of: target).count == 1, "'\(target)' must occur once", sourceLocation: sourceLocation)
        return replacing(target, with: replacement, maxReplacements: 1)
    }
}

@Suite struct GoodPolicyTests {
    @Test(arguments: [Target.xen41, .xen32])
    func aGoodPolicyHasNoDiagnostics(target: Target) throws {
        let policy = try expectClean(check(goodPolicy, target: target, schema: .g3b))
        #expect(policy.name == "mini")
        #expect(policy.header.version == PolicyVersion(major: 1, minor: 0))
        #expect(policy.header.versionText == "1.0")
        #expect(policy.simpleTypeEnforcement?.types == ["SystemManagement", "Red", "Blue"])
        #expect(policy.simpleTypeEnforcement?.locations.map(\.line) == [9, 10, 11])
        #expect(policy.chineseWall?.types.types == ["SystemManagement", "Red", "Blue"])
        #expect(policy.chineseWall?.types.markedPrimary == true)
        #expect(policy.chineseWall?.conflictSets.map(\.name) == ["RER"])
        #expect(policy.chineseWall?.conflictSets.first?.types == ["Red", "Blue"])
        #expect(policy.bootstrapLabel == "SystemManagement")
        #expect(policy.vmLabels.map(\.name) == ["SystemManagement", "Red"])
        #expect(policy.vmLabels.first?.steTypes == ["SystemManagement", "Red", "Blue"])
        #expect(policy.vmLabels.first?.chineseWallTypes == ["SystemManagement"])
        #expect(policy.vmLabels.first?.location == PolicyDiagnostics.SourceLocation(file: testFile, line: 29, column: 7))
        #expect(policy.resourceLabels.map(\.name) == ["RedDisk"])
        #expect(policy.resourceLabels.first?.steTypes == ["Red"])
        #expect(policy.resourceLabels.first?.chineseWallTypes == nil)
    }

    @Test func aGoodPolicyHasNoDiagnosticsForXen31() throws {
        let policy = try expectClean(check(goodPolicy, target: .xen31, schema: .g3a))
        #expect(policy.vmLabels.count == 2)
    }

    @Test(arguments: Target.allCases.filter { $0 != .xen302 })
    func theSmallPolicyIsCleanForEveryTarget(target: Target) throws {
        try expectClean(check(smallPolicy, target: target))
    }

    @Test func theExamplePoliciesAreClean() throws {
        let mini = try InputFile.read(packagePath("Examples/policies/mini.xml"), limit: 1 << 20)
        try expectClean(check(String(decoding: mini, as: UTF8.self), target: .xen41, schema: .g3b))
        let xen304 = try InputFile.read(packagePath("Examples/policies/client_v1-xen304.xml"), limit: 1 << 20)
        try expectClean(check(String(decoding: xen304, as: UTF8.self), target: .xen304, schema: .g2))
    }

    @Test func theXen302ExampleChecksWithItsLabelTemplate() throws {
        let policy = try InputFile.read(packagePath("Examples/policies/xen302/chwall_ste-security_policy.xml"), limit: 1 << 20)
        let labels = try InputFile.read(
            packagePath("Examples/policies/xen302/chwall_ste-security_label_template.xml"), limit: 1 << 20)
        let (checked, diagnostics) = try check(
            String(decoding: policy, as: UTF8.self), target: .xen302, schema: .g1,
            labelTemplate: String(decoding: labels, as: UTF8.self))
        #expect(diagnostics.allSatisfy { $0.severity != .error }, "\(diagnostics.map(describe))")
        let checkedPolicy = try #require(checked)
        #expect(checkedPolicy.bootstrapLabel == "dom_SystemManagement")
        #expect(checkedPolicy.header.labelTemplate?.name == "chwall_ste-security_label_template")
    }
}

@Suite struct ReadingStageTests {
    @Test func wrongRootElementIsE0011() throws {
        let (policy, diagnostics) = try check(#"<Policy xmlns="http://www.ibm.com"/>"#, target: .xen304)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0011", .error, line: 1, column: 1)
        #expect(
            diagnostic.message
                == "expected root element 'SecurityPolicyDefinition' in namespace 'http://www.ibm.com', found '{http://www.ibm.com}Policy'")
    }

    @Test func rootWithoutTheNamespaceIsE0011AndNothingElse() throws {
        // Everything below the root is outside the ACM namespace too; complaining about a missing
        // bootstrap label or Chinese Wall component would only be noise.
        let xml = goodPolicy.with(#"<SecurityPolicyDefinition xmlns="http://www.ibm.com">"#, replacedBy: "<SecurityPolicyDefinition>")
        let (policy, diagnostics) = try check(xml)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0011", .error, line: 2, column: 1)
        #expect(diagnostic.message.hasSuffix("found 'SecurityPolicyDefinition'"))
        #expect(diagnostic.hint?.contains(#"xmlns="http://www.ibm.com""#) == true)
    }

    @Test func aLabelTemplateGivenAsThePolicyIsE0011WithAHint() throws {
        let template = """
            <SecurityLabelTemplate xmlns="http://www.ibm.com">
              <SubjectLabels bootstrap="dom0"/>
            </SecurityLabelTemplate>
            """
        let (_, diagnostics) = try check(template, target: .xen302)
        let diagnostic = try expectSingle(diagnostics, "E0011", .error, line: 1, column: 1)
        #expect(diagnostic.hint?.contains("--label-template") == true)
    }

    @Test func swappedXen302FilesReportBothRoots() throws {
        let policyFile = """
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <SimpleTypeEnforcement>
                <SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes>
              </SimpleTypeEnforcement>
            </SecurityPolicyDefinition>
            """
        let templateFile = """
            <SecurityLabelTemplate xmlns="http://www.ibm.com">
              <SubjectLabels bootstrap="dom0">
                <VirtualMachineLabel>
                  <Name>dom0</Name>
                  <SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes>
                </VirtualMachineLabel>
              </SubjectLabels>
            </SecurityLabelTemplate>
            """
        try expectClean(check(policyFile, target: .xen302, labelTemplate: templateFile))
        let (policy, diagnostics) = try check(templateFile, target: .xen302, labelTemplate: policyFile)
        #expect(policy == nil)
        #expect(diagnostics.map(\.code) == ["E0011", "E0011"], "\(diagnostics.map(describe))")
        #expect(diagnostics.map(\.location.file) == [testFile, "labels.xml"])
        #expect(diagnostics.first?.hint?.contains("--label-template") == true)
    }
}

@Suite struct TypeCheckTests {
    @Test func duplicateSTETypeIsE0101() throws {
        let xml = goodPolicy.with(
            "<Type>Blue</Type>\n    </SimpleTypeEnforcementTypes>",
            replacedBy: "<Type>Blue</Type><Type>Red</Type>\n    </SimpleTypeEnforcementTypes>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0101", .error, line: 11, column: 24)
        #expect(diagnostic.message == "SimpleTypeEnforcement type 'Red' is declared more than once")
        #expect(diagnostic.notes.first?.location == PolicyDiagnostics.SourceLocation(file: testFile, line: 10, column: 7))
    }

    @Test func duplicateChineseWallTypeIsE0101() throws {
        let xml = smallPolicy.with(
            "<Type>SystemManagement</Type>\n    </ChineseWallTypes>",
            replacedBy: "<Type>SystemManagement</Type><Type>SystemManagement</Type>\n    </ChineseWallTypes>")
        let (_, diagnostics) = try check(xml)
        let diagnostic = try expectSingle(diagnostics, "E0101", .error, line: 10, column: 36)
        #expect(diagnostic.message.hasPrefix("ChineseWall type"))
        #expect(diagnostic.notes.first?.location?.column == 7)
    }

    @Test func undeclaredLabelTypeIsE0102WithADidYouMeanHint() throws {
        let xml = goodPolicy.with(
            "<Name>Red</Name>\n        <SimpleTypeEnforcementTypes>\n          <Type>Red</Type>",
            replacedBy: "<Name>Red</Name>\n        <SimpleTypeEnforcementTypes>\n          <Type>Rde</Type>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0102", .error, line: 43, column: 11)
        #expect(diagnostic.message == "type 'Rde' in label 'Red' is not a declared SimpleTypeEnforcement type")
        #expect(diagnostic.hint == "did you mean 'Red'?")
        try expectClean(check(xml.with("<Type>Rde</Type>", replacedBy: "<Type>Red</Type>"), schema: .g3b))
    }

    @Test func undeclaredChineseWallLabelTypeIsE0102WithoutAHintWhenNothingIsClose() throws {
        let xml = goodPolicy.with(
            "<ChineseWallTypes>\n          <Type>Red</Type>", replacedBy: "<ChineseWallTypes>\n          <Type>Green</Type>")
        let (_, diagnostics) = try check(xml)
        let diagnostic = try expectSingle(diagnostics, "E0102", .error, line: 46, column: 11)
        #expect(diagnostic.message == "type 'Green' in label 'Red' is not a declared ChineseWall type")
        #expect(diagnostic.hint == nil)
    }

    @Test func labelTypeOfAMissingComponentIsE0102() throws {
        let xml = """
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <PolicyHeader><PolicyName>p</PolicyName></PolicyHeader>
              <SimpleTypeEnforcement>
                <SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes>
              </SimpleTypeEnforcement>
              <SecurityLabelTemplate>
                <SubjectLabels bootstrap="dom0">
                  <VirtualMachineLabel>
                    <Name>dom0</Name>
                    <SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes>
                    <ChineseWallTypes><Type>A</Type></ChineseWallTypes>
                  </VirtualMachineLabel>
                </SubjectLabels>
              </SecurityLabelTemplate>
            </SecurityPolicyDefinition>
            """
        let (_, diagnostics) = try check(xml, target: .xen304, schema: .g2)
        let diagnostic = try expectSingle(diagnostics, "E0102", .error, line: 11, column: 27)
        #expect(diagnostic.message == "label 'dom0' uses ChineseWall type 'A' but the policy has no ChineseWall component")
        try expectClean(
            check(xml.with("<ChineseWallTypes><Type>A</Type></ChineseWallTypes>", replacedBy: ""), target: .xen304, schema: .g2))
    }

    @Test func undeclaredConflictSetTypeIsE0103() throws {
        let xml = goodPolicy.with(
            "<Type>Red</Type>\n        <Type>Blue</Type>\n      </Conflict>",
            replacedBy: "<Type>Red</Type>\n        <Type>Bleu</Type>\n      </Conflict>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0103", .error, line: 23, column: 9)
        #expect(diagnostic.message == "conflict set type 'Bleu' is not a declared ChineseWall type")
        #expect(diagnostic.hint == "did you mean 'Blue'?")
    }

    @Test func undeclaredConflictSetTypeWithoutSuggestionExplainsXendsBehaviour() throws {
        let xml = goodPolicy.with(
            "<Type>Red</Type>\n        <Type>Blue</Type>\n      </Conflict>",
            replacedBy: "<Type>Red</Type>\n        <Type>Pepsi</Type>\n      </Conflict>")
        let (_, diagnostics) = try check(xml, target: .xen31)
        let diagnostic = try expectSingle(diagnostics, "E0103", .error, line: 23, column: 9)
        #expect(diagnostic.hint?.contains("silently dropped") == true)
    }

    @Test func repeatedConflictSetTypeIsE0104() throws {
        let xml = goodPolicy.with(
            "<Type>Red</Type>\n        <Type>Blue</Type>\n      </Conflict>",
            replacedBy: "<Type>Red</Type>\n        <Type>Red</Type>\n      </Conflict>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0104", .error, line: 23, column: 9)
        #expect(diagnostic.message == "type 'Red' appears twice in one conflict set")
    }

    @Test func typeListedTwiceInALabelIsW0102() throws {
        let xml = goodPolicy.with(
            "<Type>Red</Type>\n          <Type>Blue</Type>\n        </SimpleTypeEnforcementTypes>",
            replacedBy: "<Type>Red</Type>\n          <Type>Red</Type>\n        </SimpleTypeEnforcementTypes>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        let diagnostic = try expectSingle(diagnostics, "W0102", .warning, line: 34, column: 11)
        #expect(diagnostic.message == "type 'Red' is listed twice in label 'SystemManagement'")
        // A warning does not stop compilation; the type is kept once per listing as the historical tools did.
        let checked = try #require(policy)
        #expect(checked.vmLabels.first?.steTypes == ["SystemManagement", "Red", "Red"])
    }
}

@Suite struct LabelCheckTests {
    @Test func missingBootstrapAttributeIsE0105() throws {
        let xml = goodPolicy.with(#"<SubjectLabels bootstrap="SystemManagement">"#, replacedBy: "<SubjectLabels>")
        let (policy, diagnostics) = try check(xml)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0105", .error, line: 28, column: 5)
        #expect(diagnostic.message == "no bootstrap label is defined")
    }

    @Test func missingSubjectLabelsIsE0105AtTheTemplate() throws {
        let xml = """
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
              <ChineseWall>
                <ChineseWallTypes><Type>A</Type></ChineseWallTypes>
              </ChineseWall>
              <SecurityLabelTemplate/>
            </SecurityPolicyDefinition>
            """
        let (_, diagnostics) = try check(xml)
        try expectSingle(diagnostics, "E0105", .error, line: 6, column: 3)
        // secpol_xml2bin only needed a bootstrap label for the components that exist.
        let empty = xml.with("<ChineseWall>\n    <ChineseWallTypes><Type>A</Type></ChineseWallTypes>\n  </ChineseWall>\n", replacedBy: "")
        try expectClean(check(empty, target: .xen31))
        try expectClean(check(empty, target: .xen304))
    }

    @Test func bootstrapNamingAResourceLabelIsE0106() throws {
        let xml = goodPolicy.with(#"bootstrap="SystemManagement""#, replacedBy: #"bootstrap="RedDisk""#)
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0106", .error, line: 28, column: 20)
        #expect(diagnostic.message == "bootstrap label 'RedDisk' is not a VM label")
        #expect(diagnostic.hint == "'RedDisk' is a resource label; Domain-0 needs a VirtualMachineLabel")
    }

    @Test func misspeltBootstrapLabelIsE0106WithADidYouMeanHint() throws {
        let xml = goodPolicy.with(#"bootstrap="SystemManagement""#, replacedBy: #"bootstrap="SystemManagment""#)
        let (_, diagnostics) = try check(xml, target: .xen31, schema: .g3a)
        let diagnostic = try expectSingle(diagnostics, "E0106", .error, line: 28, column: 20)
        #expect(diagnostic.hint == "did you mean 'SystemManagement'?")
    }

    @Test func emptyNamesAreE0107() throws {
        // Policy name.
        var (_, diagnostics) = try check(smallPolicy.with("<PolicyName>p</PolicyName>", replacedBy: "<PolicyName></PolicyName>"))
        try expectSingle(diagnostics, "E0107", .error, line: 2, column: 17)
        // A declared type.
        (_, diagnostics) = try check(
            smallPolicy.with(
                "<Type>SystemManagement</Type>\n    </SimpleTypeEnforcementTypes>",
                replacedBy: "<Type>SystemManagement</Type><Type/>\n    </SimpleTypeEnforcementTypes>"))
        var diagnostic = try expectSingle(diagnostics, "E0107", .error, line: 5, column: 36)
        #expect(diagnostic.message == "empty type name")
        // A VM label's name (the bootstrap label is another one, so only the empty name is reported).
        (_, diagnostics) = try check(goodPolicy.with("<Name>Red</Name>", replacedBy: "<Name></Name>"), schema: .g3b)
        diagnostic = try expectSingle(diagnostics, "E0107", .error, line: 41, column: 9)
        #expect(diagnostic.message == "empty VM label name")
    }

    @Test func labelWithoutANameIsE0107AtTheLabel() throws {
        // Only reachable without schema validation (every XSD requires Name).
        let (_, diagnostics) = try check(goodPolicy.with("<Name>RedDisk</Name>", replacedBy: ""))
        let diagnostic = try expectSingle(diagnostics, "E0107", .error, line: 51, column: 7)
        #expect(diagnostic.message == "resource label has no name")
    }

    @Test func emptyTypeInALabelIsE0107ForSecpolButSkippedByXend() throws {
        // xend's own DEFAULT policy writes <ChineseWallTypes><Type/></ChineseWallTypes> for "no type".
        let xml = goodPolicy.with(
            "<ChineseWallTypes>\n          <Type>SystemManagement</Type>", replacedBy: "<ChineseWallTypes>\n          <Type/>")
        let policy = try expectClean(check(xml, target: .xen41, schema: .g3b))
        #expect(policy.vmLabels.first?.chineseWallTypes == [])
        let (_, diagnostics) = try check(xml, target: .xen31, schema: .g3a)
        let diagnostic = try expectSingle(diagnostics, "E0107", .error, line: 37, column: 11)
        #expect(diagnostic.message == "empty type name in label 'SystemManagement'")
    }

    @Test(arguments: [Target.xen41, .xen32])
    func colonInALabelNameIsE0108ForXend(target: Target) throws {
        let xml = goodPolicy.with("<Name>RedDisk</Name>", replacedBy: "<Name>Red:Disk</Name>")
        let (policy, diagnostics) = try check(xml, target: target, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0108", .error, line: 52, column: 9)
        #expect(diagnostic.message == "resource label name 'Red:Disk' contains ':'")
        #expect(diagnostic.hint?.contains("ACM:<policy>:<label>") == true)
    }

    @Test func colonInThePolicyNameIsE0108ForXend() throws {
        let xml = goodPolicy.with("<PolicyName>mini</PolicyName>", replacedBy: "<PolicyName>a:b</PolicyName>")
        let (_, diagnostics) = try check(xml, target: .xen32, schema: .g3b)
        let diagnostic = try expectSingle(diagnostics, "E0108", .error, line: 4, column: 5)
        #expect(diagnostic.message == "policy name 'a:b' contains ':'")
    }

    @Test(arguments: [Target.xen31, .xen304])
    func colonsAreFineBeforeXen32(target: Target) throws {
        let xml = smallPolicy.with("<PolicyName>p</PolicyName><Version>1.0</Version>", replacedBy: "<PolicyName>a:b</PolicyName>")
            .replacing("SystemManagement", with: "System:Management")
        let policy = try expectClean(check(xml, target: target))
        #expect(policy.bootstrapLabel == "System:Management")
    }

    @Test func duplicateVMLabelIsE0109() throws {
        let xml = goodPolicy.with("<Name>Red</Name>", replacedBy: "<Name>SystemManagement</Name>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0109", .error, line: 41, column: 9)
        #expect(diagnostic.message == "VM label 'SystemManagement' is defined more than once")
        #expect(diagnostic.notes.first?.location == PolicyDiagnostics.SourceLocation(file: testFile, line: 30, column: 9))
    }

    @Test func duplicateResourceLabelIsE0109() throws {
        let xml = goodPolicy.with(
            "</ResourceLabel>\n",
            replacedBy: "</ResourceLabel>\n      <ResourceLabel>\n        <Name>RedDisk</Name>\n"
                + "        <SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes>\n      </ResourceLabel>\n")
        let (_, diagnostics) = try check(xml, target: .xen31, schema: .g3a)
        let diagnostic = try expectSingle(diagnostics, "E0109", .error, line: 58, column: 9)
        #expect(diagnostic.message == "resource label 'RedDisk' is defined more than once")
        #expect(diagnostic.notes.first?.location?.line == 52)
    }

    @Test func aVMLabelAndAResourceLabelMayShareAName() throws {
        let xml = goodPolicy.with("<Name>RedDisk</Name>", replacedBy: "<Name>Red</Name>")
        let policy = try expectClean(check(xml, schema: .g3b))
        #expect(policy.vmLabels.map(\.name) == ["SystemManagement", "Red"])
        #expect(policy.resourceLabels.map(\.name) == ["Red"])
    }

    @Test func secondTypesElementInALabelIsE0110() throws {
        let xml = goodPolicy.with(
            "<Type>Red</Type>\n        </SimpleTypeEnforcementTypes>\n        <ChineseWallTypes>\n          <Type>Red</Type>",
            replacedBy: "<Type>Red</Type>\n        </SimpleTypeEnforcementTypes>\n        <SimpleTypeEnforcementTypes><Type>Blue</Type>"
                + "</SimpleTypeEnforcementTypes>\n        <ChineseWallTypes>\n          <Type>Red</Type>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0110", .error, line: 45, column: 9)
        #expect(diagnostic.message == "label 'Red' has more than one SimpleTypeEnforcementTypes element")
        #expect(diagnostic.notes.first?.location == PolicyDiagnostics.SourceLocation(file: testFile, line: 42, column: 9))
    }

    @Test func emptyConflictSetNameIsE0114ForXend() throws {
        let xml = goodPolicy.with(#"<Conflict name="RER">"#, replacedBy: #"<Conflict name="">"#)
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0114", .error, line: 21, column: 17)
        #expect(diagnostic.message == "conflict set has an empty name")
        // secpol_xml2bin did not look at the name.
        try expectClean(check(xml, target: .xen31, schema: .g3a))
    }

    @Test func bootstrapLabelWithoutAComponentsTypesIsE0115ForSecpol() throws {
        let xml = goodPolicy.with(
            "<ChineseWallTypes>\n          <Type>SystemManagement</Type>\n        </ChineseWallTypes>\n", replacedBy: "")
        let (policy, diagnostics) = try check(xml, target: .xen31, schema: .g3a)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0115", .error, line: 29, column: 7)
        #expect(diagnostic.message == "bootstrap label 'SystemManagement' has no ChineseWallTypes")
        // xend gives every VM label a row in both components.
        try expectClean(check(xml, target: .xen41, schema: .g3b))
    }

    @Test func whitespaceInANameIsW0101() throws {
        let xml = goodPolicy.with("<Name>RedDisk</Name>", replacedBy: "<Name>Red Disk</Name>")
        let (policy, diagnostics) = try check(xml, schema: .g3b)
        let diagnostic = try expectSingle(diagnostics, "W0101", .warning, line: 52, column: 9)
        #expect(diagnostic.message == "resource label name 'Red Disk' contains whitespace")
        #expect(policy?.resourceLabels.first?.name == "Red Disk")
    }

    @Test func whitespaceAroundATypeIsW0101AndTheNameIsKeptVerbatim() throws {
        let xml = smallPolicy.with(
            "<SimpleTypeEnforcementTypes>\n      <Type>SystemManagement</Type>",
            replacedBy: "<SimpleTypeEnforcementTypes>\n      <Type>SystemManagement</Type><Type>\n        Spaced\n      </Type>")
        let (policy, diagnostics) = try check(xml)
        let diagnostic = try expectSingle(diagnostics, "W0101", .warning, line: 5, column: 36)
        #expect(diagnostic.message == "type name '\n        Spaced\n      ' contains whitespace")
        #expect(policy?.simpleTypeEnforcement?.types.count == 2)
    }

    @Test func renameSourceIsCheckedLikeAName() throws {
        let xml = goodPolicy.with("<Name>Red</Name>", replacedBy: #"<Name from="old:red">Red</Name>"#)
        let (_, diagnostics) = try check(xml, schema: .g3b)
        let diagnostic = try expectSingle(diagnostics, "E0108", .error, line: 41, column: 15)
        #expect(diagnostic.message == "'from' label name 'old:red' contains ':'")
        let renamed = try expectClean(check(xml.with("old:red", replacedBy: "red"), schema: .g3b))
        #expect(renamed.vmLabels[1].renamedFrom == "red")
    }
}

@Suite struct HeaderCheckTests {
    @Test(arguments: ["1", "1.x", "1x0", "1.", ".1", "1.0.0", "-1.0", "１.0"])
    func malformedVersionIsE0111(version: String) throws {
        let xml = goodPolicy.with("<Version>1.0</Version>", replacedBy: "<Version>\(version)</Version>")
        let (policy, diagnostics) = try check(xml)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0111", .error, line: 5, column: 5)
        #expect(diagnostic.message == "version '\(version)' is not of the form MAJOR.MINOR")
    }

    @Test func versionThatTheHistoricalPatternLetsThroughIsE0111() throws {
        // The XSD's unescaped '.' accepts any character between the digit groups.
        let xml = goodPolicy.with("<Version>1.0</Version>", replacedBy: "<Version>1x0</Version>")
        let (_, diagnostics) = try check(xml, schema: .g3b)
        try expectSingle(diagnostics, "E0111", .error, line: 5, column: 5)
    }

    @Test func malformedFromPolicyVersionIsE0111() throws {
        let xml = goodPolicy.with(
            "<Version>1.0</Version>\n",
            replacedBy:
                "<Version>1.1</Version>\n    <FromPolicy>\n      <PolicyName>mini</PolicyName>\n      <Version>1a0</Version>\n    </FromPolicy>\n"
        )
        let (_, diagnostics) = try check(xml, schema: .g3b)
        try expectSingle(diagnostics, "E0111", .error, line: 8, column: 7)
        let fixed = try expectClean(check(xml.with("1a0", replacedBy: "1.0"), schema: .g3b))
        #expect(fixed.header.fromPolicy == PolicyReference(name: "mini", version: PolicyVersion(major: 1, minor: 0), versionText: "1.0"))
    }

    @Test func versionBeyond32BitsIsE0112() throws {
        // Only reachable without the XSD, which allows 8 digits per number.
        let xml = goodPolicy.with("<Version>1.0</Version>", replacedBy: "<Version>4294967296.0</Version>")
        let (policy, diagnostics) = try check(xml)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0112", .error, line: 5, column: 5)
        #expect(diagnostic.message == "version '4294967296.0' does not fit in two 32-bit numbers")
        let largest = try expectClean(check(xml.with("4294967296.0", replacedBy: "4294967295.99999999")))
        #expect(largest.header.version == PolicyVersion(major: UInt32.max, minor: 99_999_999))
    }
}

@Suite struct LimitAndTargetTests {
    @Test func labelsBeyondThe16BitSsidLimitAreE0113() {
        // 1 null ssid + 65,536 labels = 65,537 ssids. Built as a tree: as XML text it would be ~10 MB.
        let root = Tree.policy(steTypes: ["A"], chineseWallTypes: ["A"], vmLabels: 60_000, resourceLabels: 5_536)
        let (policy, diagnostics) = check(root: root)
        #expect(policy == nil)
        #expect(diagnostics.count == 1, "\(diagnostics.map(describe))")
        if let diagnostic = diagnostics.first {
            expect(diagnostic, "E0113", .error, line: 1, column: 1)
            #expect(diagnostic.message == "65537 ssids (labels plus the null label) exceed the limit of 65536 16-bit ssids")
        }
        let fits = Tree.policy(steTypes: ["A"], chineseWallTypes: ["A"], vmLabels: 60_000, resourceLabels: 5_535)
        let (fitting, fine) = check(root: fits)
        #expect(fine.isEmpty)
        #expect(fitting?.resourceLabels.count == 5_535)
    }

    @Test func typesBeyondThe16BitLimitAreE0113() {
        let many = (0..<65_537).map { "t\($0)" }
        let root = Tree.policy(steTypes: many, chineseWallTypes: ["A"], vmLabels: 1, resourceLabels: 0)
        let (policy, diagnostics) = check(root: root)
        #expect(policy == nil)
        #expect(diagnostics.map(\.code) == ["E0113"])
        #expect(diagnostics.first?.message == "65537 SimpleTypeEnforcement types exceed the limit of 65536")
        let (_, fine) = check(root: Tree.policy(steTypes: Array(many.dropLast()), chineseWallTypes: ["A"], vmLabels: 1, resourceLabels: 0))
        #expect(fine.isEmpty)
    }

    /// Conflict sets are bounded like ssids: the blob decoder refuses more (E0409), since each costs
    /// `inspect` and `decompile` a name and a line.
    @Test func conflictSetsBeyondTheLimitAreE0113() {
        let root = Tree.policy(steTypes: ["A"], chineseWallTypes: ["A", "B"], vmLabels: 1, resourceLabels: 0, conflictSets: 65_537)
        let (policy, diagnostics) = check(root: root)
        #expect(policy == nil)
        #expect(diagnostics.map(\.code) == ["E0113"], "\(diagnostics.map(describe))")
        #expect(diagnostics.first?.message == "65537 conflict sets exceed the limit of 65536")
        let fits = Tree.policy(steTypes: ["A"], chineseWallTypes: ["A", "B"], vmLabels: 1, resourceLabels: 0, conflictSets: 65_536)
        let (fitting, fine) = check(root: fits)
        #expect(fine.isEmpty, "\(fine.map(describe))")
        #expect(fitting?.chineseWall?.conflictSets.count == 65_536)
    }

    /// The matrices grow with the product of two counts: 65,536 Chinese Wall types and 40,000
    /// conflict sets, 3 MB of XML, asked for a 5.2 GB blob, and `compile` crashed (out of memory, or
    /// converting its length to the header's 32-bit field). Past 512 MiB, E0116, before the emitter.
    @Test func matricesBeyondTheBlobLimitAreE0116() throws {
        let wide = (0..<65_536).map { "t\($0)" }
        // 4,097 conflict sets x 65,536 types x 2 bytes: 537,001,984 bytes, past 536,870,912 with the ssids'.
        let (policy, diagnostics) = check(
            root: Tree.policy(steTypes: ["A"], chineseWallTypes: wide, vmLabels: 1, resourceLabels: 0, conflictSets: 4_097))
        #expect(policy == nil)
        let diagnostic = try #require(diagnostics.first)
        #expect(diagnostics.map(\.code) == ["E0116"], "\(diagnostics.map(describe))")
        expect(diagnostic, "E0116", .error, line: 1, column: 1)
        #expect(
            diagnostic.message
                == "the policy's matrices would take 537264132 bytes, more than the limit of 536870912 for a blob "
                + "(4097 conflict sets x 65536 ChineseWall types take 537001984)")
        let (_, fine) = check(
            root: Tree.policy(steTypes: ["A"], chineseWallTypes: wide, vmLabels: 1, resourceLabels: 0, conflictSets: 4_000))
        #expect(fine.isEmpty, "\(fine.map(describe))")
        // Labels times types as well: 4,097 STE ssids x 65,536 types.
        let (_, labels) = check(root: Tree.policy(steTypes: wide, chineseWallTypes: ["A"], vmLabels: 4_000, resourceLabels: 96))
        #expect(labels.map(\.code) == ["E0116"], "\(labels.map(describe))")
        #expect(labels.first?.message.hasSuffix("(4097 ssids x 65536 SimpleTypeEnforcement types take 537001984)") == true)
    }

    @Test(arguments: [Target.xen41, .xen32])
    func steOnlyPolicyIsE0303ForXend(target: Target) throws {
        let xml = goodPolicy.with(
            """
            <ChineseWall priority="PrimaryPolicyComponent">
                <ChineseWallTypes>
                  <Type>SystemManagement</Type>
                  <Type>Red</Type>
                  <Type>Blue</Type>
                </ChineseWallTypes>
                <ConflictSets>
                  <Conflict name="RER">
                    <Type>Red</Type>
                    <Type>Blue</Type>
                  </Conflict>
                </ConflictSets>
              </ChineseWall>

            """, replacedBy: ""
        ).replacing("<ChineseWallTypes>\n          <Type>SystemManagement</Type>\n        </ChineseWallTypes>\n", with: "")
            .replacing("<ChineseWallTypes>\n          <Type>Red</Type>\n        </ChineseWallTypes>\n", with: "")
        let (policy, diagnostics) = try check(xml, target: target, schema: .g3b)
        #expect(policy == nil)
        let diagnostic = try expectSingle(diagnostics, "E0303", .error, line: 2, column: 1)
        #expect(diagnostic.message == "\(target) needs a ChineseWall component with at least one type")
        #expect(diagnostic.hint?.contains("--target xen-3.1") == true)
        // secpol_xml2bin made STE-primary, NULL-secondary blobs that Xen 3.1 loads.
        let steOnly = try expectClean(check(xml, target: .xen31, schema: .g3a))
        #expect(steOnly.chineseWall == nil)
    }

    @Test func nonASCIIPolicyIsW0301ForXen41() throws {
        let xml = goodPolicy.with(
            "<PolicyName>mini</PolicyName>", replacedBy: "<PolicyName>mini</PolicyName>\n    <Reference>Zürich</Reference>")
        let (policy, diagnostics) = try check(xml, target: .xen41, schema: .g3b, computesMinidomDigest: true)
        try expectSingle(diagnostics, "W0301", .warning, line: 2, column: 1)
        #expect(policy?.xmlDigest?.count == 20)
        try expectClean(check(xml, target: .xen32, schema: .g3b, computesMinidomDigest: true))
    }
}

@Suite struct WholeFileTests {
    @Test func independentErrorsAreAllReportedInOneRun() throws {
        let xml = """
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <PolicyHeader>
                <PolicyName>bad:name</PolicyName>
                <Version>1x0</Version>
              </PolicyHeader>
              <SimpleTypeEnforcement>
                <SimpleTypeEnforcementTypes>
                  <Type>A</Type>
                  <Type>A</Type>
                  <Type>B C</Type>
                </SimpleTypeEnforcementTypes>
              </SimpleTypeEnforcement>
              <ChineseWall>
                <ChineseWallTypes>
                  <Type>A</Type>
                </ChineseWallTypes>
                <ConflictSets>
                  <Conflict name="">
                    <Type>A</Type>
                    <Type>Z</Type>
                  </Conflict>
                </ConflictSets>
              </ChineseWall>
              <SecurityLabelTemplate>
                <SubjectLabels bootstrap="dom1">
                  <VirtualMachineLabel>
                    <Name>dom0</Name>
                    <SimpleTypeEnforcementTypes><Type>A</Type><Type>Q</Type></SimpleTypeEnforcementTypes>
                  </VirtualMachineLabel>
                  <VirtualMachineLabel>
                    <Name>dom0</Name>
                  </VirtualMachineLabel>
                </SubjectLabels>
              </SecurityLabelTemplate>
            </SecurityPolicyDefinition>
            """
        let (policy, diagnostics) = try check(xml)
        #expect(policy == nil)
        let found = diagnostics.map { "\($0.code)@\($0.location.line):\($0.location.column)" }.sorted()
        let expected = [
            "E0108@3:5",  // ':' in the policy name
            "E0111@4:5",  // version syntax
            "E0101@9:7",  // duplicate STE type
            "W0101@10:7",  // whitespace in a type name
            "E0114@18:17",  // empty conflict set name
            "E0103@20:9",  // undeclared conflict set type
            "E0102@28:51",  // undeclared label type
            "E0109@31:9",  // duplicate VM label
            "E0106@25:20",  // bootstrap label is not a VM label
        ].sorted()
        #expect(found == expected, "\(diagnostics.map(describe))")
    }

    @Test func namespacePrefixedDocumentsCheckLikeUnprefixedOnes() throws {
        // Same layout, so every element starts at the same line and column in both forms.
        let prefixed = goodPolicy.replacing("<SecurityPolicyDefinition xmlns=", with: "<ibm:SecurityPolicyDefinition xmlns:ibm=")
            .replacing(/<(\/?)([A-Z])/, with: { "<\($0.output.1)ibm:\($0.output.2)" })
        #expect(prefixed.contains("<ibm:Type>Red</ibm:Type>"))
        #expect(prefixed.contains("</ibm:SecurityPolicyDefinition>"))
        #expect(!prefixed.contains("ibm:ibm:"))
        let unprefixedPolicy = try expectClean(check(goodPolicy, schema: .g3b))
        let prefixedPolicy = try expectClean(check(prefixed, schema: .g3b))
        #expect(prefixedPolicy == unprefixedPolicy)
        #expect(
            try expectClean(check(prefixed, target: .xen31, schema: .g3a)) == expectClean(check(goodPolicy, target: .xen31, schema: .g3a)))
    }

    @Test func diagnosticsInPrefixedDocumentsPointAtThePrefixedElement() throws {
        let xml = """
            <ibm:SecurityPolicyDefinition xmlns:ibm="http://www.ibm.com">
              <ibm:PolicyHeader><ibm:PolicyName>p</ibm:PolicyName><ibm:Version>1.0</ibm:Version></ibm:PolicyHeader>
              <ibm:ChineseWall>
                <ibm:ChineseWallTypes><ibm:Type>A</ibm:Type><ibm:Type>A</ibm:Type></ibm:ChineseWallTypes>
              </ibm:ChineseWall>
              <ibm:SecurityLabelTemplate>
                <ibm:SubjectLabels bootstrap="dom0">
                  <ibm:VirtualMachineLabel><ibm:Name>dom0</ibm:Name></ibm:VirtualMachineLabel>
                </ibm:SubjectLabels>
              </ibm:SecurityLabelTemplate>
            </ibm:SecurityPolicyDefinition>
            """
        let (_, diagnostics) = try check(xml, schema: .g3b)
        try expectSingle(diagnostics, "E0101", .error, line: 4, column: 49)
    }

    @Test func elementsOutsideTheACMNamespaceAreIgnored() throws {
        // Without schema validation a foreign element is invisible to the checker, like a comment.
        let xml = goodPolicy.with("<Name>Red</Name>", replacedBy: #"<Name>Red</Name><x:Type xmlns:x="urn:other">Nope</x:Type>"#)
        try expectClean(check(xml))
    }
}
