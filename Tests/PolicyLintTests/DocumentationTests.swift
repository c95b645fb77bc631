import Foundation
import PolicyLint
import Testing

/// `docs/lint/` and the rules agree: one page per rule with the rule's facts, a catalogue row per
/// rule, and the embedded copy (what `--explain` prints) equal to the files.
@Suite struct DocumentationTests {
    static let directory = LintTestSupport.packageRoot.appendingPathComponent("docs/lint")

    func read(_ name: String) throws -> String {
        try String(contentsOf: Self.directory.appendingPathComponent(name + ".md"), encoding: .utf8)
    }

    @Test func everyRuleHasAPageAndEveryPageARule() throws {
        let pages = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".md") && $0 != "README.md" }.map { String($0.dropLast(3)) }.sorted()
        #expect(pages == RuleRegistry.descriptions.map(\.id).sorted())
    }

    @Test(arguments: RuleRegistry.descriptions.map(\.id))
    func pageStatesTheRulesFacts(_ id: String) throws {
        let rule = try #require(RuleRegistry.description(of: id))
        let page = try read(id)
        let summary = rule.summary.prefix(1).uppercased() + rule.summary.dropFirst() + "."
        #expect(
            page.hasPrefix("# `\(id)`\n\n\(summary)\n\n| severity | category | applies to | enabled | fixable |\n|---|---|---|---|---|\n"))
        let row = page.split(separator: "\n", omittingEmptySubsequences: false)[6]
        #expect(row.hasPrefix("| \(rule.defaultSeverity.rawValue) | \(rule.category.rawValue) | "), "\(row)")
        #expect(row.contains(rule.isEnabledByDefault ? "| by default |" : "| opt-in"), "\(row)")
        #expect(row.hasSuffix(rule.isFixable ? "| yes (`--fix`) |" : "| no |"), "\(row)")
        for section in ["## What it finds", "## Why it matters", "## Example", "## How to fix", "## How to suppress"] {
            #expect(page.contains("\n\(section)\n"), "\(id) lacks \(section)")
        }
        #expect(page.contains("xen-policy-disable \(id)"), "\(id) does not show its suppression comment")
        #expect(page.contains("[\(id)]"), "\(id) does not show a finding")
    }

    @Test func catalogueListsEveryRuleInRegistryOrder() throws {
        let readme = try read("README")
        let catalogue = try #require(readme.firstRange(of: "## Catalogue\n")?.upperBound)
        let end = try #require(readme[catalogue...].firstRange(of: "\n## ")?.lowerBound)
        let rows = readme[catalogue..<end].split(separator: "\n").filter { $0.hasPrefix("| [`") }
        #expect(rows.count == RuleRegistry.descriptions.count)
        for (row, rule) in zip(rows, RuleRegistry.descriptions) {
            let prefix = "| [`\(rule.id)`](\(rule.id).md) | \(rule.category.rawValue) | \(rule.defaultSeverity.rawValue) | \(rule.summary)"
            #expect(row.hasPrefix(prefix), "\(row)")
            #expect(row.hasSuffix(rule.isFixable ? " (fixable) |" : "\(rule.summary) |"), "\(row)")
        }
    }

    /// Scripts/embed-lint-docs.sh must have been run after the last edit of docs/lint.
    @Test func embeddedPagesAreTheFiles() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".md") }.map { String($0.dropLast(3)) }.sorted()
        #expect(LintDocumentation.pageNames == names)
        for name in names {
            #expect(
                (name == "README" ? LintDocumentation.catalogue : LintDocumentation.page(for: name)) == (try read(name)),
                "docs/lint/\(name).md differs from its embedded copy; run Scripts/embed-lint-docs.sh")
        }
    }
}
