import Foundation
import Testing

/// `xen-policy replay`: exit codes, text and JSON output, rule tables and descriptions.
@Suite struct ReplayCommandTests {
    static let protocols: [String] = {
        let directory = CommandRunner.packageRoot.appendingPathComponent("Examples/protocols")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".xpd") }.sorted()
        return files.map { "Examples/protocols/\($0)" }
    }()

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)-\(name)").path
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func aCleanTraceExitsZero() throws {
        let result = try CommandRunner.run(
            "xen-policy", ["replay", "--protocols"] + Self.protocols + ["--", "Examples/traces/vbd-connect.log"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "52 messages, 1 instance: 0 violations\n")
    }

    /// For the benchmarks: `XEN_POLICY_THREAD_TIMES` adds each thread's processor time on stderr,
    /// and nothing else changes; without it, no such line.
    @Test func threadTimesOnRequest() throws {
        let arguments = ["replay", "--protocols"] + Self.protocols + ["--", "Examples/traces/vbd-connect.log"]
        let timed = try CommandRunner.run("xen-policy", arguments, variables: ["XEN_POLICY_THREAD_TIMES": "1"])
        #expect(timed.status == 0, "\(timed.standardError)")
        #expect(timed.standardOutput == "52 messages, 1 instance: 0 violations\n")
        let pattern = try Regex("^thread times: replaying [0-9]+\\.[0-9]{3} s, reading [0-9]+\\.[0-9]{3} s \\(processor time\\)\n$")
        #expect(timed.standardError.wholeMatch(of: pattern) != nil, "\(timed.standardError)")
        let plain = try CommandRunner.run("xen-policy", arguments)
        #expect(!plain.standardError.contains("thread times"))
    }

    /// `-` reads the trace from standard input, as from a live log.
    @Test func theTraceFromStandardInput() throws {
        let trace = try String(
            contentsOf: CommandRunner.packageRoot.appendingPathComponent("Examples/traces/violation-fe-ring-ref-while-connected.log"),
            encoding: .utf8)
        let result = try CommandRunner.run("xen-policy", ["replay"] + Self.protocols + ["-"], input: trace)
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("<stdin>:53: violation: "))
        #expect(result.standardOutput.hasSuffix("53 messages, 1 instance: 1 violation\n"))
    }

    @Test func violationsExitOneAndNameTheParty() throws {
        let result = try CommandRunner.run(
            "xen-policy",
            ["replay", "--format", "json", "--protocols"] + Self.protocols + ["--", "Examples/traces/violation-backend-stalled.log"])
        #expect(result.status == 1, "\(result.standardError)")
        let document = try Self.json(result.standardOutput)
        #expect(document["messages"] as? Int == 28)
        let violations = try #require(document["violations"] as? [[String: Any]])
        #expect(violations.count == 1)
        let violation = try #require(violations.first)
        #expect(violation["line"] as? Int == 17)
        #expect(violation["domid"] as? Int == 3)
        #expect(violation["role"] as? String == "backend")
        #expect(violation["protocol"] as? String == "vbd")
        #expect(violation["instance"] as? String == "vbd fe=5 be=3 devid=51712")
        #expect(violation["rule"] as? String == "expect be.state != Initialising within 10s")
        #expect((violation["origin"] as? String)?.hasPrefix("Examples/protocols/vbd.xpd:") == true)
        #expect((violation["message"] as? String)?.isEmpty == false)
    }

    @Test func textOutputNamesLineBlameAndRule() throws {
        let result = try CommandRunner.run(
            "xen-policy", ["replay"] + Self.protocols + ["Examples/traces/violation-fe-ring-ref-while-connected.log"])
        #expect(result.status == 1)
        #expect(result.standardOutput.hasPrefix("Examples/traces/violation-fe-ring-ref-while-connected.log:53: violation: "))
        #expect(result.standardOutput.contains("    blame: frontend (domain 5), vbd fe=5 be=0 devid=51712\n"))
        #expect(result.standardOutput.contains("    rule: key fe/ring-ref{i}: phase (Examples/protocols/vbd.xpd:"))
        #expect(result.standardOutput.hasSuffix("53 messages, 1 instance: 1 violation\n"))
    }

    @Test func aCompiledRuleTableGivesTheSameVerdicts() throws {
        let table = Self.temporary("all.xsrt")
        defer { try? FileManager.default.removeItem(atPath: table) }
        let compile = try CommandRunner.run("xen-policyc", ["compile", "--rules", table] + Self.protocols)
        #expect(compile.status == 0, "\(compile.standardError)")
        for (trace, status) in [
            ("vbd-unplug.log", Int32(0)), ("vbd-reconnect.trace", 0), ("vif-connect.jsonl", 0), ("violation-be-writes-fe.trace", 1),
            ("violation-illegal-transition.jsonl", 1), ("violation-guest-rewrites-toolstack-key.jsonl", 1),
        ] {
            let fromTable = try CommandRunner.run(
                "xen-policy", ["replay", "--rules", table, "--format", "json", "Examples/traces/\(trace)"])
            let fromSources = try CommandRunner.run(
                "xen-policy", ["replay", "--format", "json", "--protocols"] + Self.protocols + ["--", "Examples/traces/\(trace)"])
            #expect(fromTable.status == status, "\(trace): \(fromTable.standardError)")
            #expect(fromTable.standardOutput == fromSources.standardOutput, "\(trace)")
        }
    }

    @Test func labelsAreCheckedAtInstanceCreation() throws {
        let result = try CommandRunner.run(
            "xen-policy",
            ["replay", "--label", "5=black", "--label", "0=SystemManagement", "--format", "json", "--protocols"] + Self.protocols + [
                "--", "Examples/traces/vbd-connect.log",
            ])
        #expect(result.status == 1)
        let violations = try #require(try Self.json(result.standardOutput)["violations"] as? [[String: Any]])
        #expect(violations.map { $0["rule"] as? String } == ["labels frontend"])
        #expect(violations.first?["role"] as? String == "toolstack")
        // The `labels frontend` line of vbd.xpd, not the protocol.
        #expect(violations.first?["origin"] as? String == "Examples/protocols/vbd.xpd:24:21")
    }

    /// `--labels FILE` gives the same labels as `--label`; a `--label` after it overrides the file.
    @Test func labelsFromAFile() throws {
        let file = Self.temporary("labels")
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "# dom0 and the guest\n0=SystemManagement\n5 black\n".write(toFile: file, atomically: true, encoding: .utf8)
        let trace = "Examples/traces/vbd-connect.log"
        let refused = try CommandRunner.run("xen-policy", ["replay", "--labels", file, "--format", "json"] + Self.protocols + [trace])
        #expect(refused.status == 1, "\(refused.standardError)")
        let violations = try #require(try Self.json(refused.standardOutput)["violations"] as? [[String: Any]])
        #expect(violations.map { $0["rule"] as? String } == ["labels frontend"])
        // The file says black; the command line says otherwise.
        let overridden = try CommandRunner.run(
            "xen-policy", ["replay", "--labels", file, "--label", "5=green"] + Self.protocols + [trace])
        #expect(overridden.status == 0, "\(overridden.standardOutput)")
        // A malformed file stops the command before the replay, with the line and column.
        try "0=SystemManagement\nfive=black\n".write(toFile: file, atomically: true, encoding: .utf8)
        let malformed = try CommandRunner.run("xen-policy", ["replay", "--labels", file] + Self.protocols + [trace])
        #expect(malformed.status == 2)
        #expect(malformed.standardError.contains("\(file):2:1: error: expected a domain number from 0 to 65535 [E0991]"))
        #expect(malformed.standardOutput.isEmpty)
    }

    /// A pair of labels the table's admission row refuses is reported at the `labels` line the row
    /// comes from: here the backend's, as the frontend has none (every VM label of the policy may be
    /// the frontend, and red shares no STE type with a green driver domain).
    @Test func admissionFindingsPointAtTheLabelsLineOfTheirRow() throws {
        let directory = Self.temporary("admission")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let examples = CommandRunner.packageRoot.appendingPathComponent("Examples/protocols")
        let library = try String(contentsOf: examples.appendingPathComponent("xenbus.xpd"), encoding: .utf8)
        try library.write(toFile: directory + "/xenbus.xpd", atomically: true, encoding: .utf8)
        var vbd = try String(contentsOf: examples.appendingPathComponent("vbd.xpd"), encoding: .utf8)
        vbd = vbd.replacingOccurrences(of: #"labels backend  = "SystemManagement";"#, with: #"labels backend  = "green";"#)
        vbd = vbd.replacingOccurrences(of: #"labels frontend = "SystemManagement" | "green" | "red" | "blue";"#, with: "")
        try vbd.write(toFile: directory + "/vbd.xpd", atomically: true, encoding: .utf8)
        let table = directory + "/vbd.xsrt"
        let compile = try CommandRunner.run(
            "xen-policyc",
            ["compile", directory + "/vbd.xpd", "--rules", table, "Examples/policies/xm-test.xml", "-o", directory + "/x.bin"])
        #expect(compile.status == 0, "\(compile.standardError)")
        let inspect = try CommandRunner.run("xen-policy", ["inspect", table])
        #expect(inspect.standardOutput.contains("vbd: frontend label -> backend label  (\(directory)/vbd.xpd:23:21)"))

        let result = try CommandRunner.run(
            "xen-policy",
            ["replay", "--rules", table, "--label", "5=red", "--label", "0=green", "--format", "json", "Examples/traces/vbd-connect.log"])
        #expect(result.status == 1, "\(result.standardError)")
        let violations = try #require(try Self.json(result.standardOutput)["violations"] as? [[String: Any]])
        #expect(violations.map { $0["rule"] as? String } == ["labels frontend/backend"])
        #expect(violations.first?["origin"] as? String == "\(directory)/vbd.xpd:23:21")
        let allowed = try CommandRunner.run(
            "xen-policy", ["replay", "--rules", table, "--label", "5=green", "--label", "0=green", "Examples/traces/vbd-connect.log"])
        #expect(allowed.status == 0, "\(allowed.standardOutput)")
    }

    @Test func malformedTraceLinesExitTwoWithDiagnostics() throws {
        let trace = Self.temporary("bad.log")
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let text = try String(
            contentsOfFile: CommandRunner.packageRoot.appendingPathComponent("Examples/traces/vbd-connect.log").path, encoding: .utf8)
        try (text + "[20261127T10:00:99.000Z]  D5  write /x 1\n").write(toFile: trace, atomically: true, encoding: .utf8)
        let result = try CommandRunner.run("xen-policy", ["replay", "--protocols"] + Self.protocols + ["--", trace])
        #expect(result.status == 2)
        #expect(result.standardError.contains("E0802"))
        #expect(result.standardOutput.contains("0 violations"))
    }

    @Test func unreadableInputsExitTwo() throws {
        let missingTrace = try CommandRunner.run(
            "xen-policy", ["replay", "--protocols"] + Self.protocols + ["--", "/nonexistent/trace.log"])
        #expect(missingTrace.status == 2)
        #expect(missingTrace.standardError.contains("cannot open"))
        let missingTable = try CommandRunner.run(
            "xen-policy", ["replay", "--rules", "/nonexistent/table.xsrt", "Examples/traces/vbd-connect.log"])
        #expect(missingTable.status == 2)
        let garbage = Self.temporary("garbage.xsrt")
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        try Data("not a rule table".utf8).write(to: URL(fileURLWithPath: garbage))
        let badTable = try CommandRunner.run("xen-policy", ["replay", "--rules", garbage, "Examples/traces/vbd-connect.log"])
        #expect(badTable.status == 2)
        #expect(!badTable.standardError.isEmpty)
    }

    @Test func usageErrorsExitTwo() throws {
        let noRules = try CommandRunner.run("xen-policy", ["replay", "Examples/traces/vbd-connect.log"])
        #expect(noRules.status == 2)
        let noTrace = try CommandRunner.run("xen-policy", ["replay", "--protocols"] + Self.protocols)
        #expect(noTrace.status == 2)
        let badLabel = try CommandRunner.run(
            "xen-policy", ["replay", "--label", "five=red"] + Self.protocols + ["Examples/traces/vbd-connect.log"])
        #expect(badLabel.status == 2)
        let badFormat = try CommandRunner.run(
            "xen-policy", ["replay", "--trace-format", "xml", "--protocols"] + Self.protocols + ["--", "Examples/traces/vbd-connect.log"])
        #expect(badFormat.status == 2)
    }

    @Test func aTraceAfterTheProtocolsIsRecognised() throws {
        let result = try CommandRunner.run("xen-policy", ["replay", "--protocols"] + Self.protocols + ["Examples/traces/vbd-unplug.log"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "59 messages, 1 instance: 0 violations\n")
    }

    @Test func theTraceFormatCanBeNamed() throws {
        let result = try CommandRunner.run(
            "xen-policy",
            ["replay", "--trace-format", "cxenstored", "--protocols"] + Self.protocols + ["--", "Examples/traces/vbd-reconnect.trace"])
        #expect(result.status == 0, "\(result.standardError)")
        let wrong = try CommandRunner.run(
            "xen-policy",
            ["replay", "--trace-format", "jsonl", "--protocols"] + Self.protocols + ["--", "Examples/traces/vbd-reconnect.trace"])
        #expect(wrong.status == 2)
    }

    /// `blame turn` through a compiled table: the turn row conditions survive encoding, and the
    /// stalled (Initialised, InitWait) is the hotplug script's turn until physical-device is there,
    /// the backend's after (the description of Tests/ProtocolReplayTests/TurnBlameTests.swift).
    @Test func turnBlameEvaluatesTheRowConditions() throws {
        let source = "Tests/ProtocolReplayTests/Fixtures/turn-split.xpd"
        let table = Self.temporary("split.xsrt")
        let trace = Self.temporary("split.jsonl")
        defer { for path in [table, trace] { try? FileManager.default.removeItem(atPath: path) } }
        let compiled = try CommandRunner.run("xen-policyc", ["compile", "--rules", table, source])
        #expect(compiled.status == 0, "\(compiled.standardError)")
        let f = "/local/domain/5/device/vbd/1"
        let b = "/local/domain/3/backend/vbd/5/1"
        for (published, role) in [(false, "hotplug"), (true, "backend")] {
            var lines = [
                "{\"time\": 1000, \"socket\": 1, \"tx\": 1, \"op\": \"tx_start\"}",
                "{\"time\": 1001, \"socket\": 1, \"tx\": 1, \"op\": \"write\", \"path\": \"\(f)/backend\", \"value\": \"\(b)\"}",
                "{\"time\": 1002, \"socket\": 1, \"tx\": 1, \"op\": \"write\", \"path\": \"\(b)/frontend\", \"value\": \"\(f)\"}",
                "{\"time\": 1003, \"socket\": 1, \"tx\": 1, \"op\": \"write\", \"path\": \"\(f)/state\", \"value\": \"1\"}",
                "{\"time\": 1004, \"socket\": 1, \"tx\": 1, \"op\": \"write\", \"path\": \"\(b)/state\", \"value\": \"1\"}",
                "{\"time\": 1005, \"socket\": 1, \"tx\": 1, \"op\": \"tx_end\", \"commit\": true}",
                "{\"time\": 1006, \"domid\": 3, \"op\": \"write\", \"path\": \"\(b)/state\", \"value\": \"2\"}",
                "{\"time\": 1007, \"domid\": 5, \"op\": \"write\", \"path\": \"\(f)/state\", \"value\": \"3\"}",
            ]
            if published {
                lines.append("{\"time\": 1008, \"domid\": 3, \"op\": \"write\", \"path\": \"\(b)/physical-device\", \"value\": \"fd:3\"}")
            }
            lines.append("{\"time\": 20000, \"domid\": 7, \"op\": \"write\", \"path\": \"/local/domain/7/data/x\", \"value\": \"1\"}")
            try (lines.joined(separator: "\n") + "\n").write(toFile: trace, atomically: true, encoding: .utf8)
            let result = try CommandRunner.run("xen-policy", ["replay", "--format", "json", "--rules", table, trace])
            #expect(result.status == 1, "\(result.standardError)")
            let violations = try #require(try Self.json(result.standardOutput)["violations"] as? [[String: Any]])
            #expect(violations.map { $0["role"] as? String } == [role], "physical-device published: \(published)")
            #expect(violations.first?["domid"] as? Int == 3)
        }
    }
}
