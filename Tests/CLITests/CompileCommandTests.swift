import Foundation
import Testing

/// `xen-policyc` as a user runs it: exit codes, output formats, atomic writes, `--check`.
@Suite final class CompileCommandTests {
    let directory = ScratchDirectory("xen-policyc-cli")
    var scratch: URL { directory.url }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    func write(_ text: String, to name: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    static let broken = """
        <?xml version="1.0"?>
        <SecurityPolicyDefinition xmlns="http://www.ibm.com">
          <PolicyHeader><PolicyName>p</PolicyName><Version>1.0</Version></PolicyHeader>
          <SimpleTypeEnforcement><SimpleTypeEnforcementTypes><Type>A</Type></SimpleTypeEnforcementTypes></SimpleTypeEnforcement>
          <ChineseWall><ChineseWallTypes><Type>A</Type></ChineseWallTypes></ChineseWall>
          <SecurityLabelTemplate>
            <SubjectLabels bootstrap="dom0">
              <VirtualMachineLabel><Name>dom0</Name><SimpleTypeEnforcementTypes><Type>B</Type></SimpleTypeEnforcementTypes></VirtualMachineLabel>
            </SubjectLabels>
          </SecurityLabelTemplate>
        </SecurityPolicyDefinition>

        """

    @Test func versionAndHelp() throws {
        let version = try CommandRunner.run("xen-policyc", ["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.contains("0.1.0"))
        let help = try CommandRunner.run("xen-policyc", ["compile", "--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("--target"))
        #expect(help.standardOutput.contains("--label-template"))
        let toolHelp = try CommandRunner.run("xen-policy", ["--help"])
        #expect(toolHelp.status == 0)
        #expect(toolHelp.standardOutput.contains("inspect"))
    }

    @Test func compilesTheReadmeExample() throws {
        let result = try CommandRunner.run(
            "xen-policyc", ["compile", "Examples/policies/mini.xml", "-o", path("mini.bin"), "--map", path("mini.map")])
        #expect(result.status == 0, "\(result.standardError)")
        let expected = try Data(
            contentsOf: CommandRunner.packageRoot.appendingPathComponent("Tests/XenPolicyKitTests/Conformance/expected/mini.xen-4.1.bin"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("mini.bin"))) == expected)
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try CommandRunner.run("xen-policyc", ["compile", "Examples/policies/mini.xml"]).status == 2)
        #expect(
            try CommandRunner.run("xen-policyc", ["compile", "--target", "xen-9", "Examples/policies/mini.xml", "-o", path("x")]).status
                == 2)
        #expect(try CommandRunner.run("xen-policyc", ["compile", "--bogus"]).status == 2)
        let missing = try CommandRunner.run("xen-policyc", ["compile", path("absent.xml"), "-o", path("x.bin")])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("[E0001]"))
    }

    @Test func badInputExitsOneWithCaretAndKeepsThePreviousOutput() throws {
        let good = try CommandRunner.run("xen-policyc", ["compile", "Examples/policies/mini.xml", "-o", path("out.bin")])
        #expect(good.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: path("out.bin")))
        let bad = try write(Self.broken, to: "broken.xml")
        let result = try CommandRunner.run("xen-policyc", ["compile", bad, "-o", path("out.bin"), "--map", path("out.map")])
        #expect(result.status == 1)
        #expect(result.standardError.contains("broken.xml:8:"))
        #expect(result.standardError.contains("[E0102]"))
        #expect(result.standardError.contains("^"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("out.bin"))) == before)
        #expect(!FileManager.default.fileExists(atPath: path("out.map")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func jsonAndSarifOutput() throws {
        let bad = try write(Self.broken, to: "broken.xml")
        let json = try CommandRunner.run("xen-policyc", ["compile", bad, "-o", path("j.bin"), "--format", "json"])
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        let diagnostics = try #require(object?["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.contains { $0["code"] as? String == "E0102" && $0["line"] as? Int == 8 })
        let sarif = try CommandRunner.run("xen-policyc", ["compile", bad, "-o", path("s.bin"), "--format", "sarif"])
        let log = try JSONSerialization.jsonObject(with: Data(sarif.standardOutput.utf8)) as? [String: Any]
        #expect(log?["version"] as? String == "2.1.0")
    }

    @Test func checkComparesInsteadOfWriting() throws {
        #expect(
            try CommandRunner.run("xen-policyc", ["compile", "Examples/policies/mini.xml", "-o", path("c.bin"), "--map", path("c.map")])
                .status == 0)
        let same = try CommandRunner.run(
            "xen-policyc", ["compile", "--check", "Examples/policies/mini.xml", "-o", path("c.bin"), "--map", path("c.map")])
        #expect(same.status == 0, "\(same.standardError)")
        let other = try CommandRunner.run(
            "xen-policyc", ["compile", "--check", "--target", "xen-3.2", "Examples/policies/mini.xml", "-o", path("c.bin")])
        #expect(other.status == 1)
        #expect(other.standardError.contains("[E0902]"))
    }

    @Test func inspectAndDecompile() throws {
        let expected = "Tests/XenPolicyKitTests/Conformance/expected"
        let inspect = try CommandRunner.run(
            "xen-policy", ["inspect", "\(expected)/mini.xen-3.1.bin", "--map", "\(expected)/mini.xen-3.1.map"])
        #expect(inspect.status == 0)
        #expect(inspect.standardOutput.contains("ssid 4 [RES RedDisk]: Red"))
        let garbage = try write("not a blob at all", to: "garbage.bin")
        let bad = try CommandRunner.run("xen-policy", ["inspect", garbage])
        #expect(bad.status == 1)
        #expect(bad.standardError.contains("[E0402]"))
        let decompiled = try CommandRunner.run(
            "xen-policy", ["decompile", "\(expected)/mini.xen-3.1.bin", "--map", "\(expected)/mini.xen-3.1.map"])
        #expect(decompiled.status == 0)
        #expect(decompiled.standardOutput.contains("<PolicyName>mini</PolicyName>"))
    }
}
