import Foundation
import Testing

/// `xen-policy lint` as a user runs it: exit codes, formats, configuration, suppression, `--fix`, `--explain`.
@Suite struct LintCommandTests {
    let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-lint-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func write(_ text: String, to name: String) throws -> String {
        let path = scratch.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func lint(_ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run("xen-policy", ["lint"] + arguments)
    }

    /// `Green` is unused (warning); the two `RER` sets share a name (info).
    static func policy(unused: Bool = true, duplicateName: Bool = true, repeatRed: Bool = false) -> String {
        """
        <?xml version="1.0"?>
        <SecurityPolicyDefinition xmlns="http://www.ibm.com">
          <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
          <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type><Type>Blue</Type>\(unused ? "<Type>Green</Type>" : "")</SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
          <ChineseWall>
            <ChineseWallTypes><Type>SystemManagement</Type><Type>Red</Type><Type>Blue</Type></ChineseWallTypes>
            <ConflictSets>
              <Conflict name="RER"><Type>Red</Type><Type>Blue</Type></Conflict>
              <Conflict name="\(duplicateName ? "RER" : "RER2")"><Type>Blue</Type><Type>Red</Type></Conflict>
            </ConflictSets>
          </ChineseWall>
          <SecurityLabelTemplate>
            <SubjectLabels bootstrap="SystemManagement">
              <VirtualMachineLabel><Name>SystemManagement</Name><SimpleTypeEnforcementTypes><Type>SystemManagement</Type><Type>Red</Type><Type>Blue</Type></SimpleTypeEnforcementTypes><ChineseWallTypes><Type>SystemManagement</Type></ChineseWallTypes></VirtualMachineLabel>
              <VirtualMachineLabel>
                <Name>Red</Name>
                <SimpleTypeEnforcementTypes>
                  <Type>Red</Type>
        \(repeatRed ? "          <Type>Red</Type>\n" : "")        </SimpleTypeEnforcementTypes>
                <ChineseWallTypes><Type>Red</Type></ChineseWallTypes>
              </VirtualMachineLabel>
              <VirtualMachineLabel><Name>Blue</Name><SimpleTypeEnforcementTypes><Type>Blue</Type></SimpleTypeEnforcementTypes><ChineseWallTypes><Type>Blue</Type></ChineseWallTypes></VirtualMachineLabel>
            </SubjectLabels>
          </SecurityLabelTemplate>
        </SecurityPolicyDefinition>

        """
    }

    @Test func shippedExamplesLintClean() throws {
        let result = try lint(["Examples/policies"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty && result.standardOutput.isEmpty)
    }

    @Test func failLevels() throws {
        let warning = try write(Self.policy(), to: "warning.xml")
        let infoOnly = try write(Self.policy(unused: false), to: "info.xml")
        let clean = try write(Self.policy(unused: false, duplicateName: false), to: "clean.xml")
        #expect(try lint([warning]).status == 1)
        #expect(try lint(["--fail-level", "error", warning]).status == 0)
        #expect(try lint([infoOnly]).status == 0)
        #expect(try lint(["--fail-level", "info", infoOnly]).status == 1)
        #expect(try lint(["--fail-level", "info", clean]).status == 0)
        #expect(try lint(["--fail-level", "fatal", clean]).status == 2)
    }

    @Test func textOutput() throws {
        let path = try write(Self.policy(), to: "p.xml")
        let result = try lint([path])
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains("\(path):4:116: warning: STE type 'Green' is not used by any label [unused-type]\n"))
        #expect(result.standardError.contains(": info: conflict set name 'RER' is used more than once [duplicate-conflict-set-name]"))
        #expect(result.standardError.hasSuffix("0 errors, 1 warning, 1 info in 1 file\n"))
    }

    @Test func jsonOutputHasExactlyTheDocumentedShape() throws {
        let path = try write(Self.policy(), to: "p.xml")
        let result = try lint(["--format", "json", path])
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(Array(object.keys) == ["findings"])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.count == 2)
        for finding in findings {
            #expect(Set(finding.keys) == ["rule", "severity", "file", "line", "column", "message"])
        }
        #expect(findings[0]["rule"] as? String == "unused-type")
        #expect(findings[0]["severity"] as? String == "warning")
        #expect(findings[0]["file"] as? String == path)
        #expect(findings[0]["line"] as? Int == 4)
        #expect(findings[1]["severity"] as? String == "info")
        #expect(result.standardError.isEmpty)
    }

    @Test func sarifOutput() throws {
        let path = try write(Self.policy(), to: "p.xml")
        let result = try lint(["--format", "sarif", path])
        let log = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let unused = try #require(rules.first { $0["id"] as? String == "unused-type" })
        #expect(
            (unused["shortDescription"] as? [String: Any])?["text"] as? String == "a declared STE or Chinese Wall type that no label uses")
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.map { $0["level"] as? String } == ["warning", "note"])
        for result in results {
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == result["ruleId"] as? String)
        }
    }

    @Test func githubAnnotations() throws {
        let path = try write(Self.policy(), to: "p.xml")
        let lines = try lint(["--format", "github", path]).standardOutput.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("::warning file=\(path),line=4,col=116,title=unused-type::STE type 'Green' is not used by any label"))
        #expect(lines[1].hasPrefix("::notice file=\(path),line=9,col=7,title=duplicate-conflict-set-name::"))
    }

    @Test func enableDisableAndConfiguration() throws {
        let path = try write(Self.policy(), to: "p.xml")
        #expect(try lint(["--disable", "unused-type", path]).status == 0)
        #expect(try lint(["--disable", "unused-types", path]).standardError.contains("did you mean 'unused-type'?"))
        #expect(try lint(["--disable", "unused-types", path]).status == 2)
        #expect(try lint(["--enable", "unused-type", "--disable", "unused-type", path]).status == 2)

        let configuration = try write(
            #"{"disable": ["unused-type"], "severity": {"duplicate-conflict-set-name": "error"}}"#, to: "lint.json")
        let configured = try lint(["--config", configuration, "--format", "json", path])
        #expect(configured.status == 1)
        #expect(configured.standardOutput.contains(#""severity": "error""#))
        #expect(!configured.standardOutput.contains("unused-type"))
        // The command line overrides the file.
        #expect(
            try lint(["--config", configuration, "--enable", "unused-type", "--format", "json", path]).standardOutput.contains(
                "unused-type"))

        let broken = try write(#"{"disable": ["unused-type"]"#, to: "broken.json")
        let bad = try lint(["--config", broken, path])
        #expect(bad.status == 2)
        #expect(bad.standardError.hasPrefix("error: \(broken):1:28: invalid JSON"))
        #expect(try lint(["--config", scratch.appendingPathComponent("missing.json").path, path]).status == 2)
    }

    @Test func inlineSuppression() throws {
        let source = Self.policy().replacingOccurrences(
            of: "<Type>Green</Type>", with: "<!-- xen-policy-disable unused-type: reserved for release 2 --><Type>Green</Type>")
        let path = try write(source, to: "p.xml")
        let result = try lint(["--format", "json", path])
        #expect(result.status == 0)
        #expect(!result.standardOutput.contains("unused-type"))
    }

    @Test func explainPrintsTheRulesPage() throws {
        let result = try lint(["--explain", "unused-type"])
        #expect(result.status == 0)
        let page = try String(
            contentsOf: CommandRunner.packageRoot.appendingPathComponent("docs/lint/unused-type.md"), encoding: .utf8)
        #expect(result.standardOutput == page)
        let unknown = try lint(["--explain", "unused-typ"])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("did you mean 'unused-type'?"))
        let list = try lint(["--list-rules"])
        #expect(list.status == 0)
        #expect(list.standardOutput.split(separator: "\n").count == 16)
        #expect(list.standardOutput.contains("vm-label-without-chinese-wall-type"))
    }

    @Test func policyThatDoesNotCompileExitsOne() throws {
        let path = try write(
            Self.policy().replacingOccurrences(
                of: "<Name>Blue</Name><SimpleTypeEnforcementTypes><Type>Blue",
                with: "<Name>Blue</Name><SimpleTypeEnforcementTypes><Type>Bleu"), to: "p.xml")
        let result = try lint(["--format", "json", "--fail-level", "error", path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains(#""rule": "E0102""#))
    }

    @Test func usageAndIOErrorsExitTwo() throws {
        #expect(try lint([]).status == 2)
        let missing = try lint([scratch.appendingPathComponent("missing.xml").path])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("[E0001]"))
        let xpd = try lint([try write("protocol p {}\n", to: "p.xpd")])
        #expect(xpd.status == 2)
        #expect(xpd.standardError.contains("linting .xpd files is not supported yet [unsupported-input]"))
    }

    @Test func directoriesAndFix() throws {
        let path = try write(Self.policy(unused: false, duplicateName: false, repeatRed: true), to: "fixme.xml")
        let before = try lint([scratch.path])
        #expect(before.status == 1)
        #expect(before.standardError.contains("type 'Red' is listed twice in VM label 'Red' [duplicate-label-type]"))

        let fixed = try lint(["--fix", scratch.path])
        #expect(fixed.status == 0, "\(fixed.standardError)")
        #expect(fixed.standardError == "\(path):19:11: fixed: removed the repeated type 'Red' from VM label 'Red' [duplicate-label-type]\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.policy(unused: false, duplicateName: false))
        #expect(try lint([path]).status == 0)
    }
}
