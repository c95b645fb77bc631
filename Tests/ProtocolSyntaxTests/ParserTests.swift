import Foundation
import PolicyDiagnostics
import Testing

@testable import ProtocolSyntax

/// The parser reads the language's reference examples and recovers from errors.
@Suite struct ParserTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func parse(_ text: String) -> (SourceFile, [Diagnostic]) {
        Parser.parse(source: Array(text.utf8), file: "test.xpd")
    }

    @Test(arguments: ["xenbus.xpd", "vbd.xpd"])
    func parsesTheReferenceExamples(_ name: String) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        let (file, diagnostics) = Parser.parse(source: Array(data), file: name)
        #expect(diagnostics.isEmpty, "\(diagnostics.map { "\($0.location): \($0.message)" })")
        #expect(file.units.count == 1)
        #expect(!(file.units.first?.items.isEmpty ?? true))
    }

    @Test func pathsAndStateKeysAreSingleTokens() {
        var lexer = Lexer(source: Array("fe/queue-{q}/ring-ref{i} fe.state be/** a-b".utf8), file: "t")
        let kinds = lexer.tokenize().map(\.kind)
        #expect(
            kinds == [
                .path(directory: "fe", segments: ["queue-{q}", "ring-ref{i}"]), .stateKey(directory: "fe"),
                .path(directory: "be", segments: ["**"]), .identifier("a"), .symbol("-"), .identifier("b"), .endOfFile,
            ])
    }

    @Test func reportsEverySyntaxErrorAndKeepsGoing() {
        let (file, diagnostics) = Self.parse(
            """
            protocol p {
              key fe/a : u32 writer ;
              role r = ;
              key fe/b : u32 writer frontend;
              machine fe.state { A -> by x; B -> C by frontend; }
            }
            """)
        #expect(diagnostics.map(\.code) == ["E0710", "E0710", "E0710"])
        #expect(diagnostics.map(\.location.line) == [2, 3, 5])
        let items = file.units.first?.items ?? []
        #expect(items.count == 2)
        if case .machine(let machine) = items.last { #expect(machine.transitions.count == 1) }
    }

    @Test func expressionPrecedence() throws {
        let (file, diagnostics) = Self.parse("library l { pred p = !a && b || c => d in {1, 2} && 1 + 2 * 3 << 1 == x; }")
        #expect(diagnostics.isEmpty)
        guard case .predicate(let predicate) = try #require(file.units.first?.items.first) else {
            Issue.record("not a predicate")
            return
        }
        guard case .binary(.implies, let lhs, let rhs) = predicate.body else {
            Issue.record("=> binds loosest")
            return
        }
        guard case .binary(.or, .binary(.and, .not, .name), .name) = lhs else {
            Issue.record("|| over && over !: \(lhs)")
            return
        }
        guard
            case .binary(.and, .inSet, .binary(.equal, .binary(.add, .integer, .binary(.shiftLeft, .binary(.multiply, _, _), _)), .name)) =
                rhs
        else {
            Issue.record("arithmetic precedence: \(rhs)")
            return
        }
    }
}
