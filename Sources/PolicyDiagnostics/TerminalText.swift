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
    public func excerpt(at location: SourceLocation, sources: any SourceLineProvider) -> String {
        guard location.line > 0, let text = sources.text(ofLine: location.line, in: location.file) else { return "" }
        let gutter = String(location.line)
        var out = paint(" \(gutter) | ", .cyan) + Self.visible(text) + "\n"
        if location.column > 0 {
            // The caret goes under the column's character as printed: escapes widen what precedes it,
            // and tabs stay tabs so that it lines up in any terminal.
            let prefix = Self.visible(String(decoding: text.utf8.prefix(location.column - 1), as: UTF8.self))
            let spacing = prefix.map { $0 == "\t" ? "\t" : " " }.joined()
            out += paint(" \(String(repeating: " ", count: gutter.count)) | ", .cyan) + spacing + paint("^", .boldGreen) + "\n"
        }
        return out
    }
}
