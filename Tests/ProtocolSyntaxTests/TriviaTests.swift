import PolicyDiagnostics
import Testing

@testable import ProtocolSyntax

/// The comments and declaration extents `Parser.parseWithTrivia` keeps for lint suppressions.
@Suite struct TriviaTests {
    static let source = """
        // header
        import xb;

        protocol p extends xb {
          // before the key
          key fe/a : u32 writer frontend; // trailing
          machine fe.state {
            // before the transition\r
            Initialising -> Closed by frontend;
          }
        }

        """

    func location(_ line: Int, _ column: Int) -> PolicyDiagnostics.SourceLocation {
        PolicyDiagnostics.SourceLocation(file: "t.xpd", line: line, column: column)
    }

    @Test func commentsKeepTheirTextLocationAndTheNextToken() {
        let (_, diagnostics, trivia) = Parser.parseWithTrivia(source: Array(Self.source.utf8), file: "t.xpd")
        #expect(diagnostics.isEmpty)
        let expected: [SourceComment] = [
            SourceComment(text: " header", location: location(1, 1), nextTokenLocation: location(2, 1)),
            SourceComment(text: " before the key", location: location(5, 3), nextTokenLocation: location(6, 3)),
            SourceComment(text: " trailing", location: location(6, 35), nextTokenLocation: location(7, 3)),
            // The line's CR is not part of the text.
            SourceComment(text: " before the transition", location: location(8, 5), nextTokenLocation: location(9, 5)),
        ]
        #expect(trivia.comments == expected)
    }

    @Test func spansCoverUnitsItemsAndTransitions() {
        let (_, _, trivia) = Parser.parseWithTrivia(source: Array(Self.source.utf8), file: "t.xpd")
        let expected: [SyntaxSpan] = [
            SyntaxSpan(kind: .item, start: location(6, 3), end: location(6, 33), summary: "key 'fe/a'"),
            SyntaxSpan(kind: .transition, start: location(9, 5), end: location(9, 39), summary: "transition"),
            SyntaxSpan(kind: .item, start: location(7, 3), end: location(10, 3), summary: "machine 'fe.state'"),
            SyntaxSpan(kind: .unit, start: location(4, 1), end: location(11, 1), summary: "protocol 'p'"),
        ]
        #expect(trivia.spans == expected)
        #expect(trivia.spans[0].contains(location(6, 7)) && !trivia.spans[0].contains(location(7, 3)))
        #expect(!trivia.spans[0].contains(PolicyDiagnostics.SourceLocation(file: "other.xpd", line: 6, column: 7)))
    }

    /// The original entry point still parses the same tree.
    @Test func parseIsUnchanged() {
        let (file, diagnostics) = Parser.parse(source: Array(Self.source.utf8), file: "t.xpd")
        let (detailed, _, _) = Parser.parseWithTrivia(source: Array(Self.source.utf8), file: "t.xpd")
        #expect(diagnostics.isEmpty)
        #expect(file.units.map(\.name.name) == detailed.units.map(\.name.name))
        #expect(file.units.first?.items.count == 2)
    }
}
