import PolicyDiagnostics
import Testing

/// Text from hostile inputs is printed with the characters a terminal would act on made visible.
@Suite struct TerminalTextTests {
    struct Lines: SourceLineProvider {
        var lines: [Int: String]
        func text(ofLine line: Int, in file: String) -> String? { lines[line] }
    }

    @Test func controlAndBidirectionalCharactersAreEscaped() {
        #expect(TerminalText.visible("plain ümlaut\ttab") == "plain ümlaut\ttab")
        #expect(TerminalText.visible("\u{1B}]0;pwned\u{07}") == "\\u{1B}]0;pwned\\u{7}")
        #expect(TerminalText.visible("a\u{202E}b\u{2066}c\u{9B}d\u{7F}") == "a\\u{202E}b\\u{2066}c\\u{9B}d\\u{7F}")
        #expect(TerminalText.visible("one\ntwo") == "one\\u{A}two")
        #expect(TerminalText.visible("one\n\u{1B}two", keepingNewlines: true) == "one\n\\u{1B}two")
    }

    /// The caret stays under its column when escapes widen the text before it.
    @Test func theCaretFollowsTheEscapedText() {
        let diagnostic = Diagnostic.error("E0004", "bad \u{1B}[31mname", at: SourceLocation(file: "p.xml", line: 3, column: 7))
        let renderer = TextDiagnosticRenderer(colored: false, sources: Lines(lines: [3: "\u{1B}[31m<x>"]))
        let text = renderer.render(diagnostic)
        #expect(!text.contains("\u{1B}"))
        let expected = [
            "p.xml:3:7: error: bad \\u{1B}[31mname [E0004]",
            " 3 | \\u{1B}[31m<x>",
            "   | " + String(repeating: " ", count: 11) + "^",
            "",
        ]
        #expect(text == expected.joined(separator: "\n"))
    }
}
