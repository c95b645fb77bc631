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

    /// The violating write twice: the report counts the repeat on the finding, the stream in a note
    /// at the end.
    @Test func streamedTextEndsWithRepeatsAndTheSummary() throws {
        var lines = try Self.lines("Examples/traces/violation-fe-ring-ref-while-connected.log")
        lines.append(lines[52])
        let trace = ReplayCommandTests.temporary("repeat.log")
        defer { try? FileManager.default.removeItem(atPath: trace) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: trace, atomically: true, encoding: .utf8)
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
