import PolicyDiagnostics

/// The bytes of one input file with its line starts, to turn element locations into byte offsets
/// for `--fix` edits.
public struct SourceText: Sendable {
    public let file: String
    public let bytes: [UInt8]
    private let lineStarts: [Int]

    public init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { starts.append(index + 1) }
        lineStarts = starts
    }

    /// The byte offset of a 1-based line and UTF-8 column.
    public func offset(of location: SourceLocation) -> Int? {
        guard location.line >= 1, location.line <= lineStarts.count, location.column >= 1 else { return nil }
        let offset = lineStarts[location.line - 1] + location.column - 1
        return offset < bytes.count ? offset : nil
    }

    /// The byte range of a text-only element starting at `location` (`<Type>Red</Type>` or `<Type/>`),
    /// widened to its whole line when nothing else is on that line, so that removing it leaves no blank line.
    ///
    /// Returns nil when the element's end cannot be found by this simple scan (a comment or CDATA
    /// section holding `</`); `--fix` then leaves the element alone.
    public func removalRange(ofLeafElementAt location: SourceLocation, qualifiedName: String) -> Range<Int>? {
        guard let start = offset(of: location), bytes[start] == UInt8(ascii: "<") else { return nil }
        var index = start + 1
        // The start tag ends at the first `>`: a leaf element's attributes in a policy hold no `>`.
        while index < bytes.count, bytes[index] != UInt8(ascii: ">") { index += 1 }
        guard index < bytes.count else { return nil }
        var end: Int
        if bytes[index - 1] == UInt8(ascii: "/") {
            end = index + 1
        } else {
            let closing = Array("</\(qualifiedName)".utf8)
            var cursor = index + 1
            while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "<") { cursor += 1 }
            guard bytes[cursor...].starts(with: closing) else { return nil }
            cursor += closing.count
            while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ">") else { return nil }
            end = cursor + 1
        }
        var lineStart = start
        while lineStart > 0, bytes[lineStart - 1] == 0x20 || bytes[lineStart - 1] == 0x09 { lineStart -= 1 }
        var lineEnd = end
        while lineEnd < bytes.count, bytes[lineEnd] == 0x20 || bytes[lineEnd] == 0x09 || bytes[lineEnd] == 0x0D { lineEnd += 1 }
        if (lineStart == 0 || bytes[lineStart - 1] == UInt8(ascii: "\n")), lineEnd < bytes.count, bytes[lineEnd] == UInt8(ascii: "\n") {
            return lineStart..<(lineEnd + 1)
        }
        return start..<end
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}
