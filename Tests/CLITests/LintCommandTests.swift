import Foundation
import Testing

/// `xen-policy lint` as a user runs it: exit codes, formats, configuration, suppression, `--fix`, `--explain`.
@Suite final class LintCommandTests {
    let directory = ScratchDirectory("xen-policy-lint-cli")
    var scratch: URL { directory.url }

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
        let result = try lint(["Examples/policies", "Examples/protocols"])
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
        #expect(list.standardOutput.split(separator: "\n").count == 27)
        #expect(list.standardOutput.contains("vm-label-without-chinese-wall-type"))
        #expect(list.standardOutput.contains("state-without-expectation"))
        #expect(list.standardOutput.contains("unused-predicate"))
        #expect(list.standardOutput.contains("turn-blames-several"))
        let protocolPage = try lint(["--explain", "unread-key"])
        #expect(
            protocolPage.standardOutput
                == (try String(contentsOf: CommandRunner.packageRoot.appendingPathComponent("docs/lint/unread-key.md"), encoding: .utf8)))
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
        #expect(try lint([scratch.appendingPathComponent("missing.xpd").path]).status == 2)
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

    // MARK: - Protocol descriptions

    /// A library beside the description: `be/sectors` nobody writes, a role nobody uses.
    static let library = """
        library xb {
          enum XenbusState { Unknown = 0, Initialising = 1, InitWait = 2, Initialised = 3,
                             Connected = 4, Closing = 5, Closed = 6 }
          type u32 = uint [0 .. 4294967296);
          params (fe: u32, be: u32, devid: u32);
          role frontend = domain(fe);
          role backend = domain(be);
          role toolstack = privileged;
          key fe.state : enum XenbusState init toolstack = Initialising writer frontend;
          key be.state : enum XenbusState init toolstack = Initialising writer backend;
          key be/sectors : u32;
        }

        """

    static func description(_ name: String, extra: String = "") -> String {
        """
        import xb;

        protocol \(name) extends xb {
          dir fe = "/local/domain/{fe}/device/\(name)/{devid}" owner frontend readers backend;
          dir be = "/local/domain/{be}/backend/\(name)/{fe}/{devid}" owner backend readers frontend;
        \(extra)  machine fe.state {
            Initialising -> Connected by frontend when be.state == Connected;
            {Initialising, Connected} -> Closed by frontend;
          }
          machine be.state {
            Initialising -> Connected by backend;
            {Initialising, Connected} -> Closed by backend;
          }
          expect be.state != Initialising within 10s after be.state == Initialising blame backend;
          expect fe.state != Initialising within 30s after fe.state == Initialising && be.state != Initialising blame frontend;
          expect be.state == Closed within 10s after fe.state == Closed && be.state != Closed blame backend;
          expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame frontend;
        }

        """
    }

    /// A directory of descriptions sharing a library: every format, a finding in the library reported
    /// once, suppression, and -I for a library kept elsewhere.
    @Test func protocolDescriptions() throws {
        let directory = scratch.appendingPathComponent("protocols")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let library = try write(Self.library, to: "protocols/xb.xpd")
        let a = try write(Self.description("a", extra: "  key be/debug : string;\n"), to: "protocols/a.xpd")
        _ = try write(Self.description("b"), to: "protocols/b.xpd")

        let text = try lint([directory.path])
        #expect(text.status == 1)
        #expect(
            text.standardError.contains(
                "\(library):11:7: warning: key 'be/sectors' has no 'init' and no 'writer', so nobody may write it [unwritten-key]\n"))
        #expect(text.standardError.contains("\(a):6:7: warning: key 'be/debug' has no 'init' and no 'writer'"))
        // Once, although both protocols extend the library.
        #expect(text.standardError.components(separatedBy: "key 'be/sectors'").count == 2)
        #expect(text.standardError.hasSuffix("0 errors, 2 warnings, 0 info in 3 files\n"))

        let json = try lint(["--format", "json", directory.path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["unwritten-key", "unwritten-key"])
        #expect(findings.allSatisfy { Set($0.keys) == ["rule", "severity", "file", "line", "column", "message"] })

        let sarif = try lint(["--format", "sarif", a])
        let log = try #require(try JSONSerialization.jsonObject(with: Data(sarif.standardOutput.utf8)) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.contains { $0["id"] as? String == "state-without-expectation" })
        #expect((run["results"] as? [[String: Any]])?.count == 2)

        let github = try lint(["--format", "github", a]).standardOutput
        #expect(github.contains("::warning file=\(a),line=6,col=7,title=unwritten-key::key 'be/debug' has no 'init'"))

        // --disable and --fail-level as for policies.
        #expect(try lint(["--disable", "unwritten-key", directory.path]).status == 0)
        #expect(try lint(["--fail-level", "error", directory.path]).status == 0)

        // Suppressed in the library and in the description: clean.
        _ = try write(
            Self.library.replacingOccurrences(
                of: "  key be/sectors", with: "  // xen-policy-disable unwritten-key: sized by the toolstack's script\n  key be/sectors"),
            to: "protocols/xb.xpd")
        _ = try write(
            Self.description(
                "a", extra: "  // xen-policy-disable unwritten-key: written by hand while debugging\n  key be/debug : string;\n"),
            to: "protocols/a.xpd")
        let clean = try lint([directory.path])
        #expect(clean.status == 0, "\(clean.standardError)")
        #expect(clean.standardError.isEmpty)

        // A library elsewhere needs -I.
        let elsewhere = scratch.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: library, toPath: elsewhere.appendingPathComponent("xb.xpd").path)
        let unresolved = try lint([a])
        #expect(unresolved.status == 1)
        #expect(unresolved.standardError.contains("cannot find library 'xb'"))
        #expect(unresolved.standardError.contains("[E0720]"))
        #expect(try lint(["-I", elsewhere.path, a]).status == 0)
    }

    /// A description the checker rejects is reported with the checker's diagnostics, whatever the fail level.
    @Test func protocolDescriptionThatDoesNotCheckExitsOne() throws {
        let path = try write("protocol p { key fe/x : u32; }\n", to: "bad.xpd")
        let result = try lint(["--format", "json", "--fail-level", "error", path])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains(#""rule": "E0734""#))
    }
}
