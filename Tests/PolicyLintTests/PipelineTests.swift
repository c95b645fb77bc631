import Foundation
import PolicyDiagnostics
import PolicyLint
import PolicyModel
import Testing
import XenPolicyKit

/// Inputs, generation detection, policies that do not compile, `.xpd`, and the shipped examples.
@Suite struct PipelineTests {
    let root = LintTestSupport.packageRoot

    @Test func detectsTheNewestTargetEachPolicyCompilesFor() {
        let policies = root.appendingPathComponent("Examples/policies")
        let cases: [(String, Target)] = [
            ("mini.xml", .xen41), ("xm-test.xml", .xen41), ("client_v1-xen304.xml", .xen31),
            ("xen302/chwall_ste-security_policy.xml", .xen302),
        ]
        for (file, target) in cases {
            let inputs = LintInput.expand([policies.appendingPathComponent(file).path]).inputs
            #expect(LintPipeline().lint(inputs[0]).target == target, "\(file)")
        }
    }

    @Test func steOnlyPolicyIsLintedForXen31() {
        let source = """
            <?xml version="1.0"?>
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
              <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
              <SecurityLabelTemplate><SubjectLabels bootstrap="A">
                <VirtualMachineLabel><Name>A</Name><SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>
              </SubjectLabels></SecurityLabelTemplate>
            </SecurityPolicyDefinition>
            """
        let result = LintTestSupport.lint(source)
        #expect(result.target == .xen31)
        #expect(result.findings.isEmpty)
    }

    @Test func policyThatDoesNotCompileGetsTheCompilersDiagnostics() {
        let source = """
            <?xml version="1.0"?>
            <SecurityPolicyDefinition xmlns="http://www.ibm.com">
              <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
              <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
              <ChineseWall><ChineseWallTypes><Type>A</Type></ChineseWallTypes></ChineseWall>
              <SecurityLabelTemplate><SubjectLabels bootstrap="A">
                <VirtualMachineLabel><Name>A</Name><SimpleTypeEnforcementTypes><Type>B</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>
              </SubjectLabels></SecurityLabelTemplate>
            </SecurityPolicyDefinition>
            """
        let result = LintTestSupport.lint(source)
        #expect(result.target == nil)
        #expect(result.status == .inputError)
        #expect(result.findings.map(\.rule) == ["E0102"])
        #expect(result.findings.first?.location == SourceLocation(file: "policy.xml", line: 7, column: 68))

        let malformed = LintTestSupport.lint("<SecurityPolicyDefinition")
        #expect(malformed.status == .inputError)
        #expect(malformed.findings.first?.rule == "E0004")
    }

    @Test func xen302PolicyWithoutTemplateIsReported() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cs-security_policy.xml").path
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("Examples/policies/xen302/chwall_ste-security_policy.xml").path, toPath: path)
        let result = LintPipeline().lint(LintInput.expand([path]).inputs[0])
        #expect(result.findings.map(\.rule) == [LintPipeline.Code.missingLabelTemplate])
        #expect(result.status == .inputError)
    }

    @Test func expandsDirectoriesRecursivelyAndPairsXen302Files() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        try manager.createDirectory(at: directory.appendingPathComponent("sub/.hidden"), withIntermediateDirectories: true)
        for file in [
            "b.xml", "a-security_policy.xml", "a-security_label_template.xml", "lonely-security_label_template.xml",
            "sub/c.xml", "sub/notes.txt", "sub/.hidden/d.xml", ".e.xml", "p.xpd",
        ] {
            _ = manager.createFile(atPath: directory.appendingPathComponent(file).path, contents: Data("<x/>".utf8))
        }
        let base = directory.path
        let (inputs, diagnostics) = LintInput.expand([base, base + "/b.xml", base + "/p.xpd", base + "/missing.xml"])
        #expect(
            inputs == [
                LintInput(path: base + "/a-security_policy.xml", labelTemplatePath: base + "/a-security_label_template.xml"),
                LintInput(path: base + "/b.xml"),
                LintInput(path: base + "/lonely-security_label_template.xml"),
                LintInput(kind: .protocolDescription, path: base + "/p.xpd"),
                LintInput(path: base + "/sub/c.xml"),
            ])
        #expect(diagnostics.map(\.code) == ["E0001"])
        // A template named on its own is linted with its policy.
        #expect(
            LintInput.expand([base + "/a-security_label_template.xml"]).inputs == [
                LintInput(path: base + "/a-security_policy.xml", labelTemplatePath: base + "/a-security_label_template.xml")
            ])
    }

    /// The shipped examples lint clean with the default rules (their findings carry justified suppressions).
    @Test func shippedExamplesLintClean() {
        let (inputs, problems) = LintInput.expand([root.appendingPathComponent("Examples/policies").path])
        #expect(problems.isEmpty)
        #expect(inputs.count == 5)
        for input in inputs {
            let result = LintPipeline().lint(input)
            #expect(result.target != nil, "\(input.path)")
            #expect(result.findings.isEmpty, "\(input.path): \(result.findings)")
        }
    }

    /// So do the shipped protocol descriptions, every rule enabled, info findings included.
    @Test func shippedProtocolDescriptionsLintClean() throws {
        let (inputs, problems) = LintInput.expand([root.appendingPathComponent("Examples/protocols").path])
        #expect(problems.isEmpty)
        #expect(inputs.count == 9 && inputs.allSatisfy { $0.kind == .protocolDescription })
        let selection = try RuleSelection(configuration: LintConfiguration(), enable: RuleRegistry.descriptions.map(\.id))
        for input in inputs {
            let result = LintPipeline(selection: selection).lint(input)
            #expect(result.status == .success, "\(input.path)")
            // xenbus.xpd is a library: no protocol of its own.
            #expect(result.protocols.isEmpty == input.path.hasSuffix("xenbus.xpd"), "\(input.path)")
            #expect(result.findings.isEmpty, "\(input.path): \(result.findings)")
        }
    }

    /// The suppression comments leave every blob as the conformance corpus has it; only the XML hash of
    /// Xen 3.3-4.1 blobs (bytes 40-59 of the header), a digest of the text with its comments, changes.
    @Test(arguments: [
        ("mini.xml", "mini"), ("xm-test.xml", "xen410-xm-test"), ("xm-test-update.xml", "xen410-xm-test-update"),
        ("client_v1-xen304.xml", "xen304-chwall_ste-client_v1"),
    ])
    func examplesStillCompileToTheCorpusBlobs(_ example: String, _ corpusName: String) throws {
        let expected = root.appendingPathComponent("Tests/XenPolicyKitTests/Conformance/expected")
        let blobs = try FileManager.default.contentsOfDirectory(atPath: expected.path).filter {
            $0.hasPrefix(corpusName + ".xen-") && $0.hasSuffix(".bin")
        }
        #expect(!blobs.isEmpty)
        for blob in blobs {
            let target = try #require(Target(rawValue: String(blob.dropFirst(corpusName.count + 1).dropLast(4))))
            let outcome = PolicyCompiler().run(
                PolicyCompiler.Request(policyPath: root.appendingPathComponent("Examples/policies/\(example)").path, target: target))
            let compiled = try #require(outcome.compiled?.blob, "\(example) for \(target)")
            let reference = [UInt8](try Data(contentsOf: expected.appendingPathComponent(blob)))
            if target == .xen41 {
                #expect(compiled[..<40] == reference[..<40] && compiled[60...] == reference[60...], "\(blob)")
            } else {
                #expect(compiled == reference, "\(blob)")
            }
        }
    }

    @Test func xen302ExampleStillCompilesToTheCorpusBlob() throws {
        let examples = root.appendingPathComponent("Examples/policies/xen302")
        let outcome = PolicyCompiler().run(
            PolicyCompiler.Request(
                policyPath: examples.appendingPathComponent("chwall_ste-security_policy.xml").path,
                labelTemplatePath: examples.appendingPathComponent("chwall_ste-security_label_template.xml").path, target: .xen302))
        let reference = try Data(
            contentsOf: root.appendingPathComponent("Tests/XenPolicyKitTests/Conformance/expected/xen302-chwall_ste.xen-3.0.2.bin"))
        #expect(outcome.compiled?.blob == [UInt8](reference))
    }
}
