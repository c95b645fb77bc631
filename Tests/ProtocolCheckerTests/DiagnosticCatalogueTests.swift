import Foundation
import Testing

/// Every E07xx/W07xx/N07xx code the lexer, parser and checker emit is documented in docs/diagnostics.md and
/// asserted by a test of this target.
@Suite struct DiagnosticCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(of directory: String) throws -> String {
        let url = root.appendingPathComponent(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".swift") }.sorted()
        return try names.map { try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
    }

    /// Quoted codes such as `"E0701"` in `text`.
    static func codes(in text: String) -> Set<String> {
        var codes: Set<String> = []
        let characters = Array(text)
        for index in characters.indices where index + 6 < characters.count && characters[index] == "\"" {
            let candidate = String(characters[(index + 1)..<(index + 6)])
            guard characters[index + 6] == "\"", ["E07", "W07", "N07"].contains(where: candidate.hasPrefix),
                candidate.dropFirst().allSatisfy(\.isNumber)
            else { continue }
            codes.insert(candidate)
        }
        return codes
    }

    static func emitted() throws -> [String] {
        let sources = try text(of: "Sources/ProtocolSyntax") + text(of: "Sources/ProtocolChecker")
        return codes(in: sources).sorted()
    }

    @Test func everyCodeIsDocumented() throws {
        let emitted = try Self.emitted()
        #expect(emitted.count >= 40)
        let catalogue = try String(contentsOf: Self.root.appendingPathComponent("docs/diagnostics.md"), encoding: .utf8)
        #expect(emitted.filter { !catalogue.contains("| `\($0)` |") } == [])
    }

    @Test func everyCodeIsTested() throws {
        let emitted = try Self.emitted()
        let tests = try Self.text(of: "Tests/ProtocolCheckerTests")
        #expect(emitted.filter { !tests.contains("\"\($0)\", .") } == [])
    }
}
