import Foundation
import Testing

/// `xen-policy replay --stream`: findings and malformed lines are reported while the trace is still
/// being written, and what it prints adds up to what the replay without it reports.
@Suite struct ReplayStreamTests {
    static let protocols = ReplayCommandTests.protocols

    static func lines(_ trace: String) throws -> [String] {
        let text = try String(contentsOf: CommandRunner.packageRoot.appendingPathComponent(trace), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Feeds the first lines of a violation trace, and only when the violation has been printed the
    /// rest: without streaming the output would come at the end of the input, which the test only
    /// sends after it (a 20 s watchdog ends the input so that a failure cannot hang).
    @Test func aViolationIsPrintedBeforeTheInputEnds() throws {
        let lines = try Self.lines("Examples/traces/violation-fe-ring-ref-while-connected.log")
        let process = Process()
        process.executableURL = CommandRunner.binaries.appendingPathComponent("xen-policy")
        process.arguments = ["replay", "--stream"] + Self.protocols + ["-"]
        process.currentDirectoryURL = CommandRunner.packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let watch = OutputWatch(output.fileHandleForReading)
        let errorWatch = OutputWatch(errors.fileHandleForReading)
        input.fileHandleForWriting.write(Data((lines[..<53].joined(separator: "\n") + "\n").utf8))
        let early = watch.wait(for: "<stdin>:53: violation: ", seconds: 20)
        input.fileHandleForWriting.write(Data("not a trace line\n".utf8))
        let earlyDiagnostic = errorWatch.wait(for: "E0802", seconds: 20)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let printed = watch.untilEnd(seconds: 20)
        #expect(early)
        #expect(earlyDiagnostic)
        #expect(process.terminationStatus == 2)
        #expect(printed.hasSuffix("53 messages, 1 instance: 1 violation\n"))
        #expect(printed.components(separatedBy: "violation: ").count == 2)
    }

    /// On a file, `--stream` prints the same findings as the report at the end, with repeats counted
    /// in notes after them instead of on the finding.
    @Test(arguments: [
        "Examples/traces/violation-backend-stalled.log", "Examples/traces/violation-guest-rewrites-toolstack-key.jsonl",
        "Examples/traces/violation-pci-toolstack-closes-device.jsonl", "Examples/traces/vbd-connect.log",
    ])
    func streamedJSONLinesAddUpToTheReport(_ trace: String) throws {
        let report = try CommandRunner.run("xen-policy", ["replay", "--format", "json"] + Self.protocols + [trace])
        let streamed = try CommandRunner.run("xen-policy", ["replay", "--stream", "--format", "json"] + Self.protocols + [trace])
        #expect(streamed.status == report.status)
        let document = try ReplayCommandTests.json(report.standardOutput)
        let records = try streamed.standardOutput.split(separator: "\n").map { try ReplayCommandTests.json(String($0)) }
        let end = try #require(records.last)
        let findings = records.dropLast()
        let violations = try #require(document["violations"] as? [[String: Any]])
        let others = try #require(document["findings"] as? [[String: Any]])
        #expect(end["messages"] as? Int == document["messages"] as? Int)
        #expect(end["violations"] as? Int == violations.count)
        #expect(end["findings"] as? Int == others.count)
        #expect(findings.count == violations.count + others.count)
        // The same findings, in the order found; a streamed one has no repeats yet.
        let reported = (violations + others).sorted { Self.key($0) < Self.key($1) }
        let shown = findings.sorted { Self.key($0) < Self.key($1) }
        #expect(shown.map(Self.key) == reported.map(Self.key))
        #expect(findings.allSatisfy { $0["repeats"] == nil })
        let repeated = try #require(end["repeated"] as? [[String: Any]])
        #expect(repeated.count == reported.filter { $0["repeats"] != nil }.count)
    }

    /// `violation-fe-ring-ref-while-connected.log` with its violating write (line 53) repeated at the
    /// end, in a temporary file the caller removes.
    static func repeatedViolationTrace() throws -> String {
        var lines = try lines("Examples/traces/violation-fe-ring-ref-while-connected.log")
        lines.append(lines[52])
        let trace = ReplayCommandTests.temporary("repeat.log")
        try (lines.joined(separator: "\n") + "\n").write(toFile: trace, atomically: true, encoding: .utf8)
        return trace
    }

    /// The violating write twice: the report counts the repeat on the finding, the stream in a note
    /// at the end.
    @Test func streamedTextEndsWithRepeatsAndTheSummary() throws {
        let trace = try Self.repeatedViolationTrace()
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let report = try CommandRunner.run("xen-policy", ["replay"] + Self.protocols + [trace])
        let streamed = try CommandRunner.run("xen-policy", ["replay", "--stream"] + Self.protocols + [trace])
        #expect(streamed.status == 1)
        #expect(report.standardOutput.contains("; repeated 1 more time\n"))
        let finding = report.standardOutput.components(separatedBy: "; repeated")[0] + "\n"
        #expect(
            streamed.standardOutput
                == finding + "\(trace):53: note: key fe/ring-ref{i}: phase (violation) repeated 1 more time\n"
                + "54 messages, 1 instance: 1 violation\n")
    }

    /// `devices` vbd devices (JSON lines), each created by the toolstack, written into twice by its
    /// frontend where only the backend may write (one violation, repeated once) and removed.
    static func endedRepeatingDevices(_ devices: Int) -> String {
        var lines: [String] = []
        var time: Int64 = 1_795_773_600_000
        func add(_ who: String, _ op: String, _ path: String, _ value: String? = nil) {
            time += 10
            let connection = who.hasPrefix("A") ? "\"socket\": \(who.dropFirst())" : "\"domid\": \(who.dropFirst())"
            let written = value.map { ", \"value\": \"\($0)\"" } ?? ""
            lines.append("{\"time\": \(time), \(connection), \"op\": \"\(op)\", \"path\": \"\(path)\"\(written)}")
        }
        for fe in 5..<(5 + devices) {
            let f = "/local/domain/\(fe)/device/vbd/51712"
            let b = "/local/domain/0/backend/vbd/\(fe)/51712"
            add("A1", "mkdir", f)
            add("A1", "mkdir", b)
            for (path, value) in [
                (b + "/frontend", f), (f + "/backend", b), (f + "/backend-id", "0"), (f + "/virtual-device", "51712"),
                (f + "/state", "1"), (b + "/frontend-id", "\(fe)"), (b + "/online", "1"), (b + "/state", "1"),
                (b + "/type", "phy"), (b + "/mode", "w"),
            ] { add("A1", "write", path, value) }
            add("D\(fe)", "write", b + "/sectors", "1")
            add("D\(fe)", "write", b + "/sectors", "2")
            add("A1", "rm", f)
            add("A1", "rm", b)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A stream keeps the findings of live instances only: of the ended ones, 1,000 repeat notes
    /// are listed at the end and the rest counted, in text and in JSON.
    @Test func repeatsOfEndedInstancesAreListedUpToALimit() throws {
        let trace = ReplayCommandTests.temporary("ended-repeats.jsonl")
        defer { try? FileManager.default.removeItem(atPath: trace) }
        try Self.endedRepeatingDevices(1003).write(toFile: trace, atomically: true, encoding: .utf8)
        let text = try CommandRunner.run("xen-policy", ["replay", "--stream"] + Self.protocols + [trace])
        #expect(text.status == 1)
        let notes = text.standardOutput.split(separator: "\n").filter { $0.contains(": note: ") }
        #expect(notes.count == 1001)
        #expect(notes.last == "\(trace): note: 3 more repeated findings of ended instances not listed")
        #expect(text.standardOutput.hasSuffix("16048 messages, 1003 instances: 1003 violations\n"))

        let json = try CommandRunner.run("xen-policy", ["replay", "--stream", "--format", "json"] + Self.protocols + [trace])
        let last = try #require(json.standardOutput.split(separator: "\n").last)
        let end = try #require(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(end["violations"] as? Int == 1003)
        #expect((end["repeated"] as? [Any])?.count == 1000)
        #expect(end["repeated_unlisted"] as? Int == 3)
    }

    /// A frontend writing and removing 1,003 undeclared keys, one after the other: its instance keeps
    /// 1,000 findings to count their repeats; the other three are printed twice and told in a note.
    @Test func findingsBeyondAnInstancesLimitAreToldInANote() throws {
        let trace = ReplayCommandTests.temporary("instance-limit.log")
        defer { try? FileManager.default.removeItem(atPath: trace) }
        var lines = try Self.lines("Examples/traces/vbd-connect.log")
        for key in 0..<1003 {
            let path = "/local/domain/5/device/vbd/51712/junk-\(key)"
            lines.append("[20261127T10:00:09.000Z]  D5           write     \(path) x")
            lines.append("[20261127T10:00:09.000Z]  D5           rm        \(path)")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: trace, atomically: true, encoding: .utf8)
        let text = try CommandRunner.run("xen-policy", ["replay", "--stream"] + Self.protocols + [trace])
        let notes = text.standardOutput.split(separator: "\n").filter { $0.contains(": note: ") }
        #expect(notes.count == 1001)
        #expect(
            notes.last
                == "\(trace): note: 6 findings printed without counting their repeats: their instances had 1000 findings already")

        let json = try CommandRunner.run("xen-policy", ["replay", "--stream", "--format", "json"] + Self.protocols + [trace])
        let last = try #require(json.standardOutput.split(separator: "\n").last)
        let end = try #require(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        #expect(end["beyond_instance_limit"] as? Int == 6)
        #expect(end["findings"] as? Int == 1006)
    }

    @Test func theLiveClockNeedsStreaming() throws {
        let result = try CommandRunner.run(
            "xen-policy", ["replay", "--live-clock"] + Self.protocols + ["Examples/traces/vbd-connect.log"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("--live-clock needs --stream"))
        #expect(result.standardError.contains("[E0990]"))
    }

    static func key(_ finding: [String: Any]) -> String {
        "\(finding["line"] as? Int ?? -1)|\(finding["rule"] as? String ?? "")|\(finding["role"] as? String ?? "")|\(finding["message"] as? String ?? "")"
    }
}

/// Collects what a child prints, on a thread of its own, and lets a test wait for a text in it.
private final class OutputWatch: @unchecked Sendable {
    private let condition = NSCondition()
    private var text = ""
    private var ended = false

    init(_ handle: FileHandle) {
        Thread {
            while true {
                let data = handle.availableData
                self.condition.lock()
                if data.isEmpty { self.ended = true } else { self.text += String(decoding: data, as: UTF8.self) }
                self.condition.broadcast()
                self.condition.unlock()
                if data.isEmpty { return }
            }
        }.start()
    }

    /// Whether `needle` appeared within `seconds`.
    func wait(for needle: String, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !text.contains(needle) && !ended {
            if !condition.wait(until: deadline) { return false }
        }
        return text.contains(needle)
    }

    /// Everything printed once the output has ended (or after `seconds`).
    func untilEnd(seconds: Double) -> String {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !ended { if !condition.wait(until: deadline) { break } }
        return text
    }
}
