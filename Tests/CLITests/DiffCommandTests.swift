import Foundation
import Testing

/// `xen-policy diff` as a reviewer runs it: formats, exit codes, git revisions, blobs.
@Suite struct DiffCommandTests {
    static let xmTest = "Examples/policies/xm-test.xml"
    static let xmTestUpdate = "Examples/policies/xm-test-update.xml"
    static let mini = "Examples/policies/mini.xml"
    static let widened = "Tests/PolicyDiffTests/Fixtures/mini-widened.xml"
    static let reordered = "Tests/PolicyDiffTests/Fixtures/xm-test-reordered.xml"

    func diff(_ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run("xen-policy", ["diff"] + arguments)
    }

    @Test func xmTestUpdateInText() throws {
        let result = try diff([Self.xmTest, Self.xmTestUpdate])
        #expect(result.status == 0, "\(result.standardError)")
        let out = result.standardOutput
        #expect(out.contains("target: xen-4.1\n"))
        #expect(out.contains("VM labels\n  > green -> GREEN"))
        #expect(out.contains("  - blue STE {blue}, Chinese Wall {blue}"))
        #expect(out.contains("  ~ VM red 0x00040004 -> 0x00030003"))
        #expect(out.contains("  share lost (1):\n    [SystemManagement, blue]\n"))
        #expect(out.contains("access widens: "))
        // The finding is a diagnostic on standard error.
        #expect(result.standardError.contains("[N0601]"))
    }

    @Test func jsonAsTheIssueSpecifies() throws {
        let result = try diff(["--format", "json", Self.xmTest, Self.xmTestUpdate])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let effects = try #require(object["effects"] as? [String: Any])
        #expect(effects["share_lost"] as? [[String]] == [["SystemManagement", "blue"]])
        #expect(effects["block_gained"] as? [[String]] == [["GREEN", "red"], ["red", "GREEN"]])
        #expect(effects["run_lost"] as? [String] == ["blue"])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(
            changes.contains {
                $0["category"] as? String == "vm_label" && $0["kind"] as? String == "renamed" && $0["old_name"] as? String == "green"
            })
        #expect(
            changes.contains {
                $0["category"] as? String == "vm_label" && $0["kind"] as? String == "removed" && $0["name"] as? String == "blue"
            })
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.map { $0["code"] as? String } == ["N0601"])
        #expect(result.standardError.isEmpty)
    }

    @Test func markdownForAPullRequest() throws {
        let result = try diff(["--format", "markdown", Self.mini, Self.widened])
        #expect(result.status == 0)
        let out = result.standardOutput
        #expect(out.hasPrefix("### Policy diff: `mini` 1.0 → `mini` 1.1\n"))
        #expect(out.contains("**Access widens.**"))
        let summary = try #require(out.range(of: "| effect | gained | lost |"))
        let details = try #require(out.range(of: "#### Effects"))
        #expect(summary.lowerBound < details.lowerBound)
    }

    @Test func failOn() throws {
        #expect(try diff(["--fail-on", "widened", Self.mini, Self.widened]).status == 1)
        #expect(try diff(["--fail-on", "any", Self.mini, Self.widened]).status == 1)
        // The reverse only narrows access.
        #expect(try diff(["--fail-on", "widened", Self.widened, Self.mini]).status == 0)
        #expect(try diff(["--fail-on", "any", Self.widened, Self.mini]).status == 1)
        #expect(try diff([Self.mini, Self.widened]).status == 0)
    }

    @Test func reorderedPolicyShowsNoChange() throws {
        let result = try diff(["--fail-on", "any", Self.xmTest, Self.reordered])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
        #expect(result.standardOutput.hasSuffix("\nno changes\n"))
        #expect(result.standardError.isEmpty)
    }

    @Test func errorsExitTwo() throws {
        let xpd = try diff([Self.mini, "Examples/protocols/vif.xpd"])
        #expect(xpd.status == 2)
        #expect(xpd.standardError.contains("[E0602]"))
        #expect(xpd.standardError.contains("cannot compare a policy with a protocol description"))
        #expect(try diff(["Examples/protocols/vif.xpd", Self.mini]).status == 2)
        #expect(try diff([Self.mini, "/nonexistent.xml"]).status == 2)
        #expect(try diff([Self.mini, "no-such-revision:policy.xml"]).standardError.contains("[E0601]"))
        #expect(try diff(["--target", "xen-9", Self.mini, Self.mini]).status == 2)
        #expect(try diff(["--fail-on", "sometimes", Self.mini, Self.mini]).status == 2)
        let json = try diff(["--format", "json", Self.mini, "/nonexistent.xml"])
        #expect(json.status == 2)
        #expect(json.standardOutput.contains("\"code\": \"E0001\""))
    }

    @Test func blobWithItsMap() throws {
        let expected = "Tests/XenPolicyKitTests/Conformance/expected"
        let same = try diff(["\(expected)/mini.xen-4.1.bin", Self.mini])
        #expect(same.status == 0, "\(same.standardError)")
        #expect(same.standardOutput.contains("(mini 1.0, xen-4.1 blob)"))
        #expect(same.standardOutput.hasSuffix("\nno changes\n"))
        // A Xen 3.1 blob against the 4.1 policy: the ssidrefs of the newer target are compared.
        let across = try diff(["--format", "json", "\(expected)/mini.xen-3.1.bin", Self.mini])
        #expect(across.status == 0)
        #expect(across.standardOutput.contains("\"target\": \"xen-4.1\""))
    }

    @Test func xen302TwoFilePolicies() throws {
        let policy = "Examples/policies/xen302/chwall_ste-security_policy.xml"
        let labels = "Examples/policies/xen302/chwall_ste-security_label_template.xml"
        let result = try diff([policy, "\(policy)+\(labels)"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("target: xen-3.0.2\n"))
        #expect(result.standardOutput.hasSuffix("\nno changes\n"))
    }

    /// Whether `git` can be run (the REV:PATH test needs it).
    static let hasGit: Bool = (try? run("/usr/bin/env", ["git", "--version"], in: FileManager.default.temporaryDirectory).status) == 0

    /// `REV:PATH` in a scratch repository: the README's `xen-policy diff HEAD~1:policy.xml policy.xml`.
    @Test(.enabled(if: hasGit, "needs git")) func gitRevisions() throws {
        let repository = FileManager.default.temporaryDirectory.appendingPathComponent("diff-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repository) }
        let policy = repository.appendingPathComponent("policy.xml")
        func git(_ arguments: String...) throws {
            let result = try Self.run(
                "/usr/bin/env", ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments, in: repository)
            #expect(result.status == 0, "git \(arguments): \(result.standardError)")
        }
        try git("init", "-q")
        try FileManager.default.copyItem(at: CommandRunner.packageRoot.appendingPathComponent(Self.mini), to: policy)
        try git("add", "policy.xml")
        try git("commit", "-q", "-m", "one")
        try? FileManager.default.removeItem(at: policy)
        try FileManager.default.copyItem(at: CommandRunner.packageRoot.appendingPathComponent(Self.widened), to: policy)
        try git("commit", "-q", "-a", "-m", "two")
        let xenPolicy = CommandRunner.binaries.appendingPathComponent("xen-policy").path
        let result = try Self.run(xenPolicy, ["diff", "--fail-on", "widened", "HEAD~1:policy.xml", "policy.xml"], in: repository)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardOutput.contains("old: HEAD~1:policy.xml (mini 1.0, xen-4.1 policy)"))
        #expect(result.standardOutput.contains("run gained (1):\n    Green\n"))
        // A file whose name looks like REV:PATH is read as the file.
        let colon = repository.appendingPathComponent("HEAD:odd.xml")
        try FileManager.default.copyItem(at: policy, to: colon)
        let file = try Self.run(xenPolicy, ["diff", "HEAD:odd.xml", "policy.xml"], in: repository)
        #expect(file.status == 0, "\(file.standardError)")
        #expect(file.standardOutput.hasSuffix("\nno changes\n"))
        let missing = try Self.run(xenPolicy, ["diff", "HEAD:gone.xml", "policy.xml"], in: repository)
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("[E0601]"))
    }

    /// Copies the shipped xenbus library and vbd description into a scratch directory.
    static func protocolScratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diff-xpd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["xenbus.xpd", "vbd.xpd"] {
            try FileManager.default.copyItem(
                at: CommandRunner.packageRoot.appendingPathComponent("Examples/protocols/\(name)"),
                to: directory.appendingPathComponent(name))
        }
        return directory
    }

    static let vbdWidening = (
        "key fe/protocol       : abi                init toolstack writer frontend phase {Initialising};",
        "key fe/protocol       : abi                init toolstack writer frontend phase {Initialising, InitWait};"
    )

    @Test func protocolDescriptions() throws {
        let directory = try Self.protocolScratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modified = directory.appendingPathComponent("vbd-new.xpd")
        let original = try String(contentsOf: directory.appendingPathComponent("vbd.xpd"), encoding: .utf8)
        #expect(original.contains(Self.vbdWidening.0))
        try original.replacingOccurrences(of: Self.vbdWidening.0, with: Self.vbdWidening.1)
            .replacingOccurrences(of: "within 10s", with: "within 20s")
            .write(to: modified, atomically: true, encoding: .utf8)

        let text = try diff(["--fail-on", "widened", "Examples/protocols/vbd.xpd", modified.path])
        #expect(text.status == 1, "\(text.standardError)")
        #expect(text.standardOutput.contains("old: Examples/protocols/vbd.xpd (protocol description: vbd)"))
        #expect(text.standardOutput.contains("~ fe/protocol phase {Initialising} -> {Initialising, InitWait}"))
        #expect(text.standardOutput.contains("widened phase_widened: vbd: fe/protocol: phase gained InitWait"))
        #expect(!text.standardOutput.contains("target:"))

        let json = try diff(["--format", "json", "Examples/protocols/vbd.xpd", modified.path])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["category"] as? String == "protocol_key" && $0["attribute"] as? String == "phase" })
        #expect(changes.contains { $0["category"] as? String == "protocol_expectation" && $0["attribute"] as? String == "timeout" })
        let widened = try #require(object["protocol_widened"] as? [[String: String]])
        #expect(widened.map { $0["kind"] }.contains("phase_widened"))
        #expect(widened.map { $0["kind"] }.contains("timeout_increased"))

        // The same description in another file: no change, even with --fail-on any.
        let same = try diff(["--fail-on", "any", "Examples/protocols/vbd.xpd", directory.appendingPathComponent("vbd.xpd").path])
        #expect(same.status == 0, "\(same.standardError)")
        #expect(same.standardOutput.hasSuffix("\nno changes\n"))
        let markdown = try diff(["--format", "markdown", "Examples/protocols/vbd.xpd", modified.path])
        #expect(markdown.standardOutput.hasPrefix("### Protocol diff: "))
    }

    /// `REV:PATH` of a description: read from git, its imports found beside PATH on disk.
    @Test(.enabled(if: hasGit, "needs git")) func protocolAtAGitRevision() throws {
        let repository = try Self.protocolScratch()
        defer { try? FileManager.default.removeItem(at: repository) }
        func git(_ arguments: String...) throws {
            let result = try Self.run(
                "/usr/bin/env", ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments, in: repository)
            #expect(result.status == 0, "git \(arguments): \(result.standardError)")
        }
        try git("init", "-q")
        try git("add", "xenbus.xpd", "vbd.xpd")
        try git("commit", "-q", "-m", "one")
        let vbd = repository.appendingPathComponent("vbd.xpd")
        let original = try String(contentsOf: vbd, encoding: .utf8)
        try original.replacingOccurrences(of: Self.vbdWidening.0, with: Self.vbdWidening.1).write(
            to: vbd, atomically: true, encoding: .utf8)
        let xenPolicy = CommandRunner.binaries.appendingPathComponent("xen-policy").path
        let result = try Self.run(xenPolicy, ["diff", "--fail-on", "widened", "HEAD:vbd.xpd", "vbd.xpd"], in: repository)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardOutput.contains("old: HEAD:vbd.xpd (protocol description: vbd)"))
        #expect(result.standardOutput.contains("[vbd.xpd:"))
    }

    /// Runs a program in a directory (CommandRunner always uses the package root).
    static func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> CommandRunner.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandRunner.Result(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }
}
