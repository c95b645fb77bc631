/// Text meant for a terminal: ANSI styles when colour is on, source excerpts with a caret, and text
/// that came from an input made safe to print.
///
/// Policies, protocol descriptions and traces may come from someone else, and their names, values
/// and lines end up in messages and excerpts. Printed raw, an escape sequence in a label name could
/// retitle the reviewer's terminal or hide the lines before it, and a bidirectional override could
/// make a name read differently from what it is; ``visible(_:)`` shows such characters as escapes.
public struct TerminalText: Sendable {
    /// The SGR styles the renderers use.
    public enum Style: String, Sendable {
        case bold = "1"
        case boldRed = "1;31"
        case boldYellow = "1;33"
        case boldGreen = "1;32"
        case boldCyan = "1;36"
        case cyan = "36"
    }

    /// Whether to emit ANSI colour (decided by the caller from the terminal and `NO_COLOR`).
    public var colored: Bool

    public init(colored: Bool) {
        self.colored = colored
    }

    /// `text` in `style` when colour is on.
    public func paint(_ text: String, _ style: Style) -> String {
        colored ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// `text` with the characters a terminal would act on instead of showing shown as `\u{1B}`:
    /// C0 controls but the tab, DEL, C1 controls, and the bidirectional embeddings, overrides and
    /// isolates. Other text, including every printable non-ASCII character, is unchanged.
    /// With `keepingNewlines`, line feeds stay: for a whole report whose lines quote the inputs.
    public static func visible(_ text: String, keepingNewlines: Bool = false) -> String {
        func escaped(_ scalar: Unicode.Scalar) -> Bool { needsEscape(scalar) && !(keepingNewlines && scalar == "\n") }
        guard text.unicodeScalars.contains(where: escaped) else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if escaped(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true
        default: false
        }
    }

    /// The source line of `location` with a caret under its column (nothing when the line is
    /// unknown): ` 12 |   <Type>Bleu</Type>` and `    |   ^`.
    ///
    /// A line longer than `excerptLimit` bytes is shown as the `excerptContext` bytes either side of
    /// the column, with `…` where it is cut: a minified policy or a file of binary data may be one
    /// line of megabytes, and each of its diagnostics printed all of it.
    public func excerpt(at location: SourceLocation, sources: any SourceLineProvider) -> String {
        guard location.line > 0, let bytes = sources.bytes(ofLine: location.line, in: location.file) else { return "" }
        let (shown, beforeCaret) = Self.window(of: bytes, column: location.column)
        let gutter = String(location.line)
        var out = paint(" \(gutter) | ", .cyan) + Self.visible(shown) + "\n"
        if location.column > 0 {
            // The caret goes under the column's character as printed: escapes widen what precedes it,
            // and tabs stay tabs so that it lines up in any terminal.
            let spacing = Self.visible(beforeCaret).map { $0 == "\t" ? "\t" : " " }.joined()
            out += paint(" \(String(repeating: " ", count: gutter.count)) | ", .cyan) + spacing + paint("^", .boldGreen) + "\n"
        }
        return out
    }

    /// Lines longer than this many bytes are shown cut around the column.
    public static let excerptLimit = 240

    /// How many bytes of a cut line are shown on each side of the column.
    public static let excerptContext = 80

    /// What `excerpt` shows of the line `bytes`, and the part of it before the caret at `column`
    /// (1-based, in bytes; 0 for none).
    ///
    /// Columns count the bytes as read, so the line is cut in bytes and only then decoded: its
    /// decoded text has three bytes for each byte of invalid UTF-8 (U+FFFD), and cutting that at the
    /// column put the caret two characters to the left for each one before it, and a cut line's
    /// window two bytes early. The parts before and after the caret are decoded apart, so that the
    /// caret is always under the first character of the second.
    static func window(of line: ArraySlice<UInt8>, column: Int) -> (shown: String, beforeCaret: String) {
        // Offsets from the line's start (a slice keeps the indices of the file it was cut from).
        let count = line.count
        func byte(_ offset: Int) -> UInt8 { line[line.startIndex + offset] }
        func text(_ range: Range<Int>) -> String {
            String(decoding: line[(line.startIndex + range.lowerBound)..<(line.startIndex + range.upperBound)], as: UTF8.self)
        }
        let caret = min(max(column - 1, 0), count)
        guard count > excerptLimit else {
            let before = text(0..<caret)
            return (before + text(caret..<count), before)
        }
        // Cut at character boundaries: a continuation byte (10xxxxxx) belongs to the character before
        // it. A character has at most three, so a run of stray continuation bytes cannot widen the cut.
        var start = max(0, caret - excerptContext)
        for _ in 0..<3 where start > 0 && byte(start) & 0xC0 == 0x80 { start -= 1 }
        var end = min(count, caret + excerptContext)
        for _ in 0..<3 where end < count && byte(end) & 0xC0 == 0x80 { end += 1 }
        let lead = start > 0 ? "…" : ""
        let before = lead + text(start..<caret)
        return (before + text(caret..<end) + (end < count ? "…" : ""), before)
    }
}
