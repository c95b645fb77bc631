import Foundation
import PolicyModel
import Testing

@testable import PolicyDiff

/// The three report formats: JSON exactly as issue 5 specifies it, Markdown summary first, text.
@Suite struct DiffRendererTests {
    typealias B = PolicyBuilder

    static let report: PolicyDiffReport = {
        let dom0 = B.vm("dom0", ste: ["A", "B"], cw: ["dom0"])
        let resources = [B.res("disk", ste: ["A"]), B.res("net", ste: ["B"])]
        let old = B.policy(vms: [dom0, B.vm("x", ste: ["A"]), B.vm("gone", ste: ["B"])], resources: resources)
        let new = B.policy(version: "1.1", from: ("p", "1.0"), vms: [dom0, B.vm("X", ste: ["B"], from: "x")], resources: resources)
        return B.diff(old, new)
    }()

    @Test func jsonShape() throws {
        let text = DiffJSONRenderer().render(Self.report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(text.hasPrefix("{\n  \"changes\": ["))
        let effects = try #require(object["effects"] as? [String: Any])
        #expect(
            Set(effects.keys)
                == [
                    "share_gained", "share_lost", "resource_gained", "resource_lost", "block_gained", "block_lost", "run_gained",
                    "run_lost",
                ])
        #expect(effects["resource_gained"] as? [[String]] == [["X", "net"]])
        #expect(effects["resource_lost"] as? [[String]] == [["X", "disk"], ["gone", "net"]])
        #expect(effects["share_lost"] as? [[String]] == [["dom0", "gone"]])
        #expect(effects["run_lost"] as? [String] == ["gone"])
        let changes = try #require(object["changes"] as? [[String: Any]])
        let renamed = try #require(changes.first { $0["kind"] as? String == "renamed" })
        #expect(renamed["category"] as? String == "vm_label")
        #expect(renamed["name"] as? String == "X" && renamed["old_name"] as? String == "x")
        let types = try #require(renamed["new"] as? [String: Any])
        #expect(types["ste"] as? [String] == ["B"])
        #expect(object["target"] as? String == "xen-4.1")
        #expect(object["access_widens"] as? Bool == true)
        // The key order is fixed: the two keys first.
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == ["changes", "effects", "target", "old", "new", "access_widens", "diagnostics"])
    }

    @Test func renderedTextIsTheJSONValueLayout() throws {
        // render() writes the effect lists itself, for speed; the text must not differ.
        let renderer = DiffJSONRenderer()
        #expect(renderer.render(Self.report) == renderer.json(Self.report).rendered())
        let empty = PolicyBuilder.diff(
            PolicyBuilder.policy(vms: [PolicyBuilder.vm("dom0", ste: ["A"], cw: ["dom0"])]),
            PolicyBuilder.policy(vms: [PolicyBuilder.vm("dom0", ste: ["A"], cw: ["dom0"])]))
        #expect(renderer.render(empty) == renderer.json(empty).rendered())
        let quoting = PolicyBuilder.diff(
            PolicyBuilder.policy(vms: [PolicyBuilder.vm("dom0", ste: ["A"], cw: ["dom0"])]),
            PolicyBuilder.policy(vms: [PolicyBuilder.vm("dom0", ste: ["A"], cw: ["dom0"]), PolicyBuilder.vm("q\"uo\\te\n", ste: ["A"])]))
        #expect(renderer.render(quoting) == renderer.json(quoting).rendered())
        #expect(!quoting.effects.runGained.isEmpty)
    }

    @Test func markdownHasTheSummaryBeforeTheDetails() throws {
        let markdown = DiffMarkdownRenderer().render(Self.report)
        #expect(markdown.hasPrefix("### Policy diff: `p` 1.0 → `p` 1.1"))
        let table = try #require(markdown.range(of: "| effect | gained | lost |"))
        let details = try #require(markdown.range(of: "#### Changes"))
        #expect(table.lowerBound < details.lowerBound)
        #expect(markdown.contains("**Access widens.**"))
        #expect(markdown.contains("- renamed: `x` → `X`"))
        #expect(markdown.contains("| resource | **1** | 2 |"))
    }

    @Test func markdownCutsLongLists() {
        let labels = (0..<120).map { B.vm("vm\($0)", ste: ["A"]) }
        let report = B.diff(
            B.policy(vms: [B.vm("dom0", ste: ["A"], cw: ["dom0"])]), B.policy(vms: [B.vm("dom0", ste: ["A"], cw: ["dom0"])] + labels))
        let markdown = DiffMarkdownRenderer(itemLimit: 10).render(report)
        #expect(markdown.contains("- … and 110 more (`--format json` lists all)"))
    }

    @Test func markdownEscapesNames() {
        let renderer = DiffMarkdownRenderer()
        #expect(renderer.code("a`b") == "`` a`b ``")
        #expect(renderer.escape("<b>|x") == "\\<b\\>\\|x")
    }

    @Test func textReport() {
        let text = DiffTextRenderer().render(Self.report)
        #expect(text.contains("VM labels\n"))
        #expect(text.contains("  > x -> X\n"))
        #expect(text.contains("  share lost (1):\n    [dom0, gone]\n"))
        #expect(text.hasSuffix("access widens: resource gained 1\n"))
    }

    @Test func noChangeReads() {
        let policy = B.policy(vms: [B.vm("dom0", ste: ["A"], cw: ["dom0"])])
        let report = B.diff(policy, policy)
        #expect(DiffTextRenderer().render(report).hasSuffix("\nno changes\n"))
        #expect(DiffMarkdownRenderer().render(report).contains("**No changes.**"))
    }
}
