import Foundation
import PolicyDiagnostics
import PolicyLint
import XenPolicyKit

/// Source text with `↓` markers removed, and where they were.
struct MarkedSource {
    var text: String
    var markers: [SourceLocation]

    init(_ marked: String, file: String) {
        var lines: [String] = []
        var markers: [SourceLocation] = []
        for (index, line) in marked.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var clean = ""
            for character in line {
                if character == RuleExample.marker {
                    // Columns count UTF-8 bytes, as the reader's do.
                    markers.append(SourceLocation(file: file, line: index + 1, column: clean.utf8.count + 1))
                } else {
                    clean.append(character)
                }
            }
            lines.append(clean)
        }
        self.text = lines.joined(separator: "\n")
        self.markers = markers
    }
}

enum LintTestSupport {
    static let policyFile = "example-security_policy.xml"
    static let templateFile = "example-security_label_template.xml"
    static let protocolFile = "example.xpd"

    /// Lints an example in memory: markers removed, the rule under test enabled on top of the defaults.
    static func lint(_ example: RuleExample, enabling rule: String? = nil, disabling: [String] = []) throws
        -> (result: LintPipeline.Result, expected: [SourceLocation])
    {
        if example.input == .protocolDescription {
            let description = MarkedSource(example.source, file: protocolFile)
            let selection = try RuleSelection(configuration: LintConfiguration(), enable: rule.map { [$0] } ?? [], disable: disabling)
            let result = LintPipeline(selection: selection).lint(protocolDescription: Array(description.text.utf8), path: protocolFile)
            return (result, description.markers.sorted())
        }
        let policy = MarkedSource(example.source, file: policyFile)
        let template = example.labelTemplate.map { MarkedSource($0, file: templateFile) }
        let selection = try RuleSelection(configuration: LintConfiguration(), enable: rule.map { [$0] } ?? [], disable: disabling)
        let result = LintPipeline(selection: selection).lint(
            policy: Array(policy.text.utf8), path: policyFile,
            labelTemplate: template.map { (Array($0.text.utf8), templateFile) })
        return (result, (policy.markers + (template?.markers ?? [])).sorted())
    }

    /// Lints policy text with the given selection.
    static func lint(_ source: String, selection: RuleSelection = RuleSelection(), path: String = "policy.xml") -> LintPipeline.Result {
        LintPipeline(selection: selection).lint(policy: Array(source.utf8), path: path)
    }

    /// Lints protocol description text with the given selection.
    static func lint(protocolDescription source: String, selection: RuleSelection = RuleSelection(), path: String = "p.xpd")
        -> LintPipeline.Result
    {
        LintPipeline(selection: selection).lint(protocolDescription: Array(source.utf8), path: path)
    }

    /// Whether the example's input checked: the policy compiled, or the description's protocols checked.
    static func compiled(_ result: LintPipeline.Result) -> Bool {
        result.target != nil || (!result.protocols.isEmpty && result.status == .success)
    }

    /// The package root (for docs and examples).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A fresh scratch directory.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
