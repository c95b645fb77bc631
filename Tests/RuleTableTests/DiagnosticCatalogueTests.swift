import Foundation
import Testing

/// Every code the rule table decoder emits is documented and asserted by a test of this target.
@Suite struct RuleTableCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(of directory: String) throws -> String {
        let url = root.appendingPathComponent(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".swift") }.sorted()
        return try names.map { try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
    }

    static func emitted() throws -> [String] {
        let source = try text(of: "Sources/RuleTable")
        let pattern = try NSRegularExpression(pattern: "\"([EW]08[0-9][0-9])\"")
        let range = NSRange(source.startIndex..., in: source)
        let codes = pattern.matches(in: source, range: range).compactMap { Range($0.range(at: 1), in: source).map { String(source[$0]) } }
        return Array(Set(codes)).sorted()
    }

    @Test func everyCodeIsDocumented() throws {
        let emitted = try Self.emitted()
        #expect(emitted.count == 21)
        let catalogue = try String(contentsOf: Self.root.appendingPathComponent("docs/diagnostics.md"), encoding: .utf8)
        #expect(emitted.filter { !catalogue.contains("| `\($0)` |") } == [])
        let format = try String(contentsOf: Self.root.appendingPathComponent("docs/rule-table.md"), encoding: .utf8)
        #expect(emitted.filter { !format.contains("`\($0)`") } == [])
    }

    @Test func everyCodeIsTested() throws {
        let tests = try Self.text(of: "Tests/RuleTableTests")
        #expect(try Self.emitted().filter { !tests.contains("== [\"\($0)\"]") } == [])
    }
}
