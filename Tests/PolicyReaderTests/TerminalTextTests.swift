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

    /// The excerpt's source line and caret line, without the gutters.
    static func excerpt(of line: String, column: Int) -> (line: String, caret: String) {
        let text = TerminalText(colored: false).excerpt(
            at: SourceLocation(file: "t.xpd", line: 1, column: column), sources: Lines(lines: [1: line]))
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.dropFirst(5)) }
        return (rows[0], rows.count > 1 ? rows[1] : "")
    }

    /// A line of a megabyte (a file of binary data, a minified policy) is printed as a window around
    /// the column: each diagnostic on it printed all of it, so 200 of them were 400 MB of output.
    @Test func aLongLineIsShownAroundTheColumn() {
        let line = String(repeating: "a", count: 500_000) + "X" + String(repeating: "b", count: 500_000)
        let (shown, caret) = Self.excerpt(of: line, column: 500_001)
        #expect(shown == "…" + String(repeating: "a", count: 80) + "X" + String(repeating: "b", count: 79) + "…")
        #expect(caret == String(repeating: " ", count: 81) + "^")
        // At the start and at the end, only the cut side has an ellipsis.
        #expect(Self.excerpt(of: line, column: 1) == ("a" + String(repeating: "a", count: 79) + "…", "^"))
        let end = Self.excerpt(of: line, column: 1_000_002)
        #expect(end.line == "…" + String(repeating: "b", count: 80))
        #expect(end.caret == String(repeating: " ", count: 81) + "^")
        // The whole line (column 0): its start, without a caret.
        #expect(Self.excerpt(of: line, column: 0) == (String(repeating: "a", count: 80) + "…", ""))
    }

    /// A cut never splits a character, and the caret stays under its column's character.
    @Test func aLongLineIsCutAtCharacterBoundaries() throws {
        let line = String(repeating: "€", count: 1000)
        // Byte 1500 starts the 501st '€'; 80 bytes either side fall inside characters.
        let (shown, caret) = Self.excerpt(of: line, column: 1501)
        #expect(!shown.contains("\u{FFFD}"))
        #expect(shown == "…" + String(repeating: "€", count: 27) + String(repeating: "€", count: 27) + "…")
        let caretOffset = try #require(caret.firstIndex(of: "^")).utf16Offset(in: caret)
        #expect(caretOffset == 28)
    }

    /// The excerpt's rows of line 1 of `bytes`, read as a file (`SourceLines`, which keeps the bytes).
    static func excerpt(ofBytes bytes: [UInt8], column: Int) -> (line: String, caret: String) {
        var sources = SourceLines()
        sources.add(file: "t.xpd", contents: bytes + [0x0A])
        let text = TerminalText(colored: false).excerpt(at: SourceLocation(file: "t.xpd", line: 1, column: column), sources: sources)
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.dropFirst(5)) }
        return (rows[0], rows.count > 1 ? rows[1] : "")
    }

    /// Columns count the bytes as read. Each byte of invalid UTF-8 prints as one U+FFFD, whose
    /// encoding is three bytes: the caret was placed in the decoded text's bytes, two characters to
    /// the left for each such byte before the column.
    @Test func theCaretFollowsInvalidUTF8InAShortLine() {
        let (shown, caret) = Self.excerpt(ofBytes: [0xFF, 0xFE, 0x20, UInt8(ascii: "x")], column: 4)
        #expect(shown == "\u{FFFD}\u{FFFD} x")
        #expect(caret == "   ^")
        // A truncated sequence (é without its second byte) is one U+FFFD, as is each lone byte.
        let (truncated, under) = Self.excerpt(ofBytes: [0xC3, 0x20, 0xE2, 0x82, 0x20, UInt8(ascii: "y")], column: 6)
        #expect(truncated == "\u{FFFD} \u{FFFD} y")
        #expect(under == "    ^")
    }

    /// In a long line the window is cut around the column in the bytes as read, so invalid UTF-8
    /// before the column, inside the window or before it, moves neither the window nor the caret.
    @Test func theCaretFollowsInvalidUTF8InALongLine() {
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 300)
        let b = [UInt8](repeating: UInt8(ascii: "b"), count: 300)
        // Inside the window: 300 'a', two bad bytes, ' ', then 'X' at column 304.
        let inside = Self.excerpt(ofBytes: a + [0xFF, 0xFE, 0x20, UInt8(ascii: "X")] + b, column: 304)
        #expect(inside.line == "…" + String(repeating: "a", count: 77) + "\u{FFFD}\u{FFFD} X" + String(repeating: "b", count: 79) + "…")
        #expect(inside.caret == String(repeating: " ", count: 81) + "^")
        // Before the window: 200 bad bytes, 300 'a', then 'X' at column 501.
        let before = Self.excerpt(ofBytes: [UInt8](repeating: 0xFF, count: 200) + a + [UInt8(ascii: "X")] + b, column: 501)
        #expect(before.line == "…" + String(repeating: "a", count: 80) + "X" + String(repeating: "b", count: 79) + "…")
        #expect(before.caret == String(repeating: " ", count: 81) + "^")
    }

    /// A cut moves back or on over at most three continuation bytes (the most a character has): a
    /// line of a megabyte of them was printed whole under each diagnostic.
    @Test func aLongLineOfContinuationBytesIsStillCut() {
        let (shown, caret) = Self.excerpt(ofBytes: [UInt8](repeating: 0x80, count: 1 << 20), column: 500_001)
        #expect(shown.count < 2 * TerminalText.excerptContext + 10)
        #expect(caret.count < TerminalText.excerptContext + 10)
    }

    @Test func aLineOfTheLimitIsShownWhole() {
        let line = String(repeating: "a", count: TerminalText.excerptLimit)
        #expect(Self.excerpt(of: line, column: 200) == (line, String(repeating: " ", count: 199) + "^"))
    }
}
