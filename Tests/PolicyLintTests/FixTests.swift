import Foundation
import PolicyDiagnostics
import PolicyLint
import PolicyModel
import Testing
import XenPolicyKit

/// `--fix`: only meaning-preserving fixes, written atomically after the blob re-check.
@Suite struct FixTests {
    static let duplicated = """
        <?xml version="1.0"?>
        <SecurityPolicyDefinition xmlns="http://www.ibm.com">
          <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
          <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
          <ChineseWall><ChineseWallTypes><Type>SystemManagement</Type><Type>Red</Type></ChineseWallTypes></ChineseWall>
          <SecurityLabelTemplate>
            <SubjectLabels bootstrap="SystemManagement">
              <VirtualMachineLabel>
                <Name>SystemManagement</Name>
                <SimpleTypeEnforcementTypes>
                  <Type>SystemManagement</Type>
                  <Type>Red</Type>
                  <Type>SystemManagement</Type>
                </SimpleTypeEnforcementTypes>
                <ChineseWallTypes><Type>SystemManagement</Type></ChineseWallTypes>
              </VirtualMachineLabel>
              <VirtualMachineLabel>
                <Name>Red</Name>
                <SimpleTypeEnforcementTypes><Type>Red</Type><Type>Red</Type></SimpleTypeEnforcementTypes>
                <ChineseWallTypes><Type>Red</Type> <Type>Red</Type></ChineseWallTypes>
              </VirtualMachineLabel>
            </SubjectLabels>
          </SecurityLabelTemplate>
        </SecurityPolicyDefinition>

        """

    static let expected = """
        <?xml version="1.0"?>
        <SecurityPolicyDefinition xmlns="http://www.ibm.com">
          <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
          <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
          <ChineseWall><ChineseWallTypes><Type>SystemManagement</Type><Type>Red</Type></ChineseWallTypes></ChineseWall>
          <SecurityLabelTemplate>
            <SubjectLabels bootstrap="SystemManagement">
              <VirtualMachineLabel>
                <Name>SystemManagement</Name>
                <SimpleTypeEnforcementTypes>
                  <Type>SystemManagement</Type>
                  <Type>Red</Type>
                </SimpleTypeEnforcementTypes>
                <ChineseWallTypes><Type>SystemManagement</Type></ChineseWallTypes>
              </VirtualMachineLabel>
              <VirtualMachineLabel>
                <Name>Red</Name>
                <SimpleTypeEnforcementTypes><Type>Red</Type></SimpleTypeEnforcementTypes>
                <ChineseWallTypes><Type>Red</Type> </ChineseWallTypes>
              </VirtualMachineLabel>
            </SubjectLabels>
          </SecurityLabelTemplate>
        </SecurityPolicyDefinition>

        """

    func compile(_ path: String, _ target: Target) -> [UInt8]? {
        PolicyCompiler().run(PolicyCompiler.Request(policyPath: path, target: target)).compiled?.blob
    }

    @Test func removesRepeatedTypesAndKeepsEveryBlob() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("p.xml").path
        try Self.duplicated.write(toFile: path, atomically: true, encoding: .utf8)
        let targets: [Target] = [.xen31, .xen32, .xen41]
        let before = targets.map { compile(path, $0) }

        let withoutFix = LintPipeline().lint(LintInput(path: path))
        #expect(withoutFix.findings.map(\.rule) == Array(repeating: "duplicate-label-type", count: 3))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.duplicated)

        let result = LintPipeline().lint(LintInput(path: path), fix: true)
        #expect(result.fixRefusal == nil)
        #expect(result.fixed.count == 3)
        #expect(result.fixed.first?.fix?.summary == "removed the repeated type 'SystemManagement' from VM label 'SystemManagement'")
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.expected)

        let after = targets.map { compile(path, $0) }
        #expect(before[0] != nil && before[0] == after[0])
        #expect(before[1] != nil && before[1] == after[1])
        // Xen 3.3-4.1 blobs end their 60-byte header with the SHA-1 of the XML text, which must change.
        #expect(before[2].map { Array($0[..<40] + $0[60...]) } == after[2].map { Array($0[..<40] + $0[60...]) })
        // Nothing left behind by the atomic write.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["p.xml"])
    }

    @Test func fixesTheXen302LabelTemplate() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let examples = LintTestSupport.packageRoot.appendingPathComponent("Examples/policies/xen302")
        let policy = directory.appendingPathComponent("cs-security_policy.xml").path
        let template = directory.appendingPathComponent("cs-security_label_template.xml").path
        try FileManager.default.copyItem(atPath: examples.appendingPathComponent("chwall_ste-security_policy.xml").path, toPath: policy)
        let original = try String(
            contentsOfFile: examples.appendingPathComponent("chwall_ste-security_label_template.xml").path, encoding: .utf8)
        let doubled = original.replacingOccurrences(
            of: "<Type>ste_DonatedCycles</Type>\n         </SimpleTypeEnforcementTypes>",
            with: "<Type>ste_DonatedCycles</Type>\n            <Type>ste_DonatedCycles</Type>\n         </SimpleTypeEnforcementTypes>")
        #expect(doubled != original)
        try doubled.write(toFile: template, atomically: true, encoding: .utf8)

        let inputs = LintInput.expand([directory.path]).inputs
        #expect(inputs == [LintInput(path: policy, labelTemplatePath: template)])
        let result = LintPipeline().lint(inputs[0], fix: true)
        #expect(result.target == .xen302)
        // dom_BoincClient and dom_NetworkDomain both end with ste_DonatedCycles: two repetitions.
        #expect(result.fixed.map(\.rule) == ["duplicate-label-type", "duplicate-label-type"])
        #expect(try String(contentsOfFile: template, encoding: .utf8) == original)
    }

    @Test func removalRangeRefusesWhatItCannotDelimit() {
        let text = SourceText(file: "f", bytes: Array("  <Type>A<!-- </Type> --></Type>\n  <Type>B</Type><Type/>\n".utf8))
        #expect(text.removalRange(ofLeafElementAt: SourceLocation(file: "f", line: 1, column: 3), qualifiedName: "Type") == nil)
        // Shares its line with another element: only the element goes.
        #expect(text.removalRange(ofLeafElementAt: SourceLocation(file: "f", line: 2, column: 3), qualifiedName: "Type") == 35..<49)
        #expect(text.removalRange(ofLeafElementAt: SourceLocation(file: "f", line: 2, column: 17), qualifiedName: "Type") == 49..<56)
        // Alone on its line: the line goes.
        let alone = SourceText(file: "f", bytes: Array("<a>\n    <Type>B</Type>\r\n</a>\n".utf8))
        #expect(alone.removalRange(ofLeafElementAt: SourceLocation(file: "f", line: 2, column: 5), qualifiedName: "Type") == 4..<24)
    }
}
