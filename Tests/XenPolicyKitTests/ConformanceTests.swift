import Foundation
import PolicyModel
import Testing
import XenPolicyKit

/// Every row of the conformance corpus: `ok` rows byte-exact, `error` rows refused with nothing written.
@Suite struct ConformanceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Conformance")

    struct Row: CustomTestStringConvertible, Sendable {
        var caseName: String
        var target: Target
        var ok: Bool
        var testDescription: String { "\(caseName) \(target) \(ok ? "ok" : "error")" }
    }

    static let rows: [Row] = {
        let text = (try? String(contentsOf: directory.appendingPathComponent("expected.tsv"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 3, let target = Target(rawValue: fields[1]) else { return nil }
            return Row(caseName: fields[0], target: target, ok: fields[2] == "ok")
        }
    }()

    @Test func corpusIsComplete() {
        #expect(Self.rows.count == 40)
    }

    @Test(arguments: rows)
    func row(_ row: Row) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cases = Self.directory.appendingPathComponent("cases")
        let request: PolicyCompiler.Request
        let output = scratch.appendingPathComponent("out.bin").path
        let map = scratch.appendingPathComponent("out.map").path
        if row.target == .xen302 {
            request = PolicyCompiler.Request(
                policyPath: cases.appendingPathComponent("\(row.caseName)-security_policy.xml").path,
                labelTemplatePath: cases.appendingPathComponent("\(row.caseName)-security_label_template.xml").path,
                target: row.target, outputPath: output, mapPath: map)
        } else {
            request = PolicyCompiler.Request(
                policyPath: cases.appendingPathComponent("\(row.caseName).xml").path, target: row.target,
                outputPath: output, mapPath: map)
        }
        let outcome = PolicyCompiler().run(request)
        if row.ok {
            #expect(outcome.status == .success, "\(outcome.diagnostics)")
            let expectedBin = try Data(contentsOf: Self.directory.appendingPathComponent("expected/\(row.caseName).\(row.target).bin"))
            let actualBin = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(Array(actualBin) == Array(expectedBin))
            let expectedMap = try String(
                contentsOf: Self.directory.appendingPathComponent("expected/\(row.caseName).\(row.target).map"), encoding: .utf8)
            let actualMap = try String(contentsOf: URL(fileURLWithPath: map), encoding: .utf8)
            #expect(Self.comparableLines(actualMap) == Self.comparableLines(expectedMap))
        } else {
            #expect(outcome.status == .inputError)
            #expect(outcome.diagnostics.contains { $0.severity == .error })
            #expect(!FileManager.default.fileExists(atPath: output))
            #expect(!FileManager.default.fileExists(atPath: map))
        }
    }

    /// Map lines with the path lines blanked: they name where the files were.
    static func comparableLines(_ text: String) -> [String] {
        let pathKeys = ["POLICY ", "BINARY ", "POLICY FILE ", "BINARY FILE ", "POLICFILE ", "BINARYFILE "]
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            pathKeys.contains { line.hasPrefix($0) } ? String(line.split(separator: " ").first ?? "") : String(line)
        }
    }
}
