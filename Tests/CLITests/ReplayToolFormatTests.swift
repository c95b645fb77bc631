import Foundation
import Testing

/// `xen-policy replay --format sarif|github`: the same findings as the JSON report, in the forms code
/// scanning and CI annotations read.
@Suite struct ReplayToolFormatTests {
    static let protocols = ReplayCommandTests.protocols

    static let traces: [String] = {
        let directory = CommandRunner.packageRoot.appendingPathComponent("Examples/traces")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { "Examples/traces/\($0)" }
    }()

    /// Every example trace: one SARIF result per finding of the JSON report, at its line, with the
    /// level its severity gives and the rule's place in the description as a related location.
    @Test(arguments: traces) func sarifHasTheReportsFindings(_ trace: String) throws {
        let report = try CommandRunner.run("xen-policy", ["replay", "--format", "json"] + Self.protocols + [trace])
        let sarif = try CommandRunner.run("xen-policy", ["replay", "--format", "sarif"] + Self.protocols + [trace])
        #expect(sarif.status == report.status)
        let document = try ReplayCommandTests.json(report.standardOutput)
        let findings =
            (document["violations"] as? [[String: Any]] ?? []) + (document["findings"] as? [[String: Any]] ?? [])
        let log = try ReplayCommandTests.json(sarif.standardOutput)
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect((run["properties"] as? [String: Any])?["messages"] as? Int == document["messages"] as? Int)
        #expect(results.count == findings.count)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        for result in results {
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == result["ruleId"] as? String)
            let location = (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
            #expect((location?["artifactLocation"] as? [String: Any])?["uri"] as? String == trace)
            let line = (location?["region"] as? [String: Any])?["startLine"] as? Int
            let severity = (result["properties"] as? [String: Any])?["severity"] as? String
            #expect(
                findings.contains {
                    $0["line"] as? Int == line && $0["rule"] as? String == result["ruleId"] as? String
                        && $0["severity"] as? String == severity
                })
            #expect(result["level"] as? String == (severity == "violation" ? "error" : severity == "audit" ? "note" : "warning"))
            let related = try #require((result["relatedLocations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let file = try #require((related["artifactLocation"] as? [String: Any])?["uri"] as? String)
            #expect(FileManager.default.fileExists(atPath: CommandRunner.packageRoot.appendingPathComponent(file).path), "\(file)")
        }
    }

    /// With `--stream`, an annotation per finding as found, the repeats as notices, then the summary.
    @Test func githubAnnotationsStream() throws {
        let trace = try ReplayStreamTests.repeatedViolationTrace()
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let streamed = try CommandRunner.run("xen-policy", ["replay", "--stream", "--format", "github"] + Self.protocols + [trace])
        #expect(streamed.status == 1)
        let output = streamed.standardOutput.split(separator: "\n").map(String.init)
        #expect(output.count == 3)
        #expect(output[0].hasPrefix("::error file=\(trace),line=53,title=key fe/ring-ref{i}%3A phase::"))
        #expect(output[0].contains("; blamed on frontend (domain 5), vbd fe=5"))
        #expect(
            output[1]
                == "::notice file=\(trace),line=53,title=key fe/ring-ref{i}%3A phase::key fe/ring-ref{i}: phase (violation) repeated 1 more time"
        )
        #expect(output[2] == "54 messages, 1 instance: 1 violation")
        // Without --stream the repeat is part of the annotation.
        let report = try CommandRunner.run("xen-policy", ["replay", "--format", "github"] + Self.protocols + [trace])
        #expect(report.standardOutput.hasSuffix("; repeated 1 more time\n54 messages, 1 instance: 1 violation\n"))
    }

    @Test func sarifCannotStream() throws {
        let result = try CommandRunner.run(
            "xen-policy", ["replay", "--stream", "--format", "sarif"] + Self.protocols + ["Examples/traces/vbd-connect.log"])
        #expect(result.status == 2)
        #expect(result.standardError.contains("--format sarif is one document"))
        #expect(result.standardError.contains("[E0990]"))
    }
}
