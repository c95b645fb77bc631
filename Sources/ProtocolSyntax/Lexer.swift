import PolicyDiagnostics

/// Splits `.xpd` source into tokens. Never fails: a run of stray characters becomes one diagnostic and is
/// skipped.
///
/// Paths are single tokens (`fe/ring-ref{i}`): the grammar has no division operator, and path segments
/// may contain `-` and `@`, so an identifier followed by `/` always starts a path.
public struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var position = 0
    private var line = 1
    private var lineStart = 0
    /// The diagnostics so far, bounded (see ``DiagnosticSelection``).
    public private(set) var diagnosticSelection: DiagnosticSelection
    /// The `//` comments met so far, in source order (the lexer skips them otherwise).
    public private(set) var comments: [SourceComment] = []

    /// A lexer of `source`, keeping at most `diagnosticLimit` of its diagnostics (and counting the rest).
    public init(source: [UInt8], file: String, diagnosticLimit: Int = .max) {
        self.bytes = source
        self.file = file
        self.diagnosticSelection = DiagnosticSelection(limit: diagnosticLimit)
    }

    /// The diagnostics kept so far, in the order reported.
    public var diagnostics: [Diagnostic] { diagnosticSelection.kept }

    /// All tokens, ending with `.endOfFile`.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = nextToken()
            tokens.append(token)
            if token.kind == .endOfFile { return tokens }
        }
    }

    /// The next token (`.endOfFile` at the end, and again if asked again). The parser takes tokens
    /// one at a time: a file of 4 MiB of `;` is four million tokens, which held together took
    /// hundreds of megabytes.
    public mutating func nextToken() -> Token {
        let commentsBefore = comments.count
        let token = next()
        for index in commentsBefore..<comments.count { comments[index].nextTokenLocation = token.location }
        return token
    }

    private var location: SourceLocation {
        SourceLocation(file: file, line: line, column: position - lineStart + 1)
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private mutating func advance() {
        if bytes[position] == UInt8(ascii: "\n") {
            line += 1
            lineStart = position + 1
        }
        position += 1
    }

    private mutating func skipTrivia() {
        while let byte = peek() {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                advance()
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                let start = location
                let textStart = position + 2
                while let b = peek(), b != 0x0A { advance() }
                var textEnd = max(textStart, position)
                if textEnd > textStart, bytes[textEnd - 1] == 0x0D { textEnd -= 1 }
                let text = String(decoding: bytes[textStart..<textEnd], as: UTF8.self)
                comments.append(SourceComment(text: text, location: start, nextTokenLocation: start))
            } else {
                return
            }
        }
    }

    /// The next token. Stray characters are reported and skipped in a loop, so that many runs of
    /// them cannot exhaust the stack.
    private mutating func next() -> Token {
        while true {
            skipTrivia()
            let start = location
            guard let byte = peek() else { return Token(.endOfFile, at: start) }
            if isIdentifierStart(byte) {
                let name = scan(while: isIdentifierByte)
                if peek() == UInt8(ascii: "."), matches(".state"), !isIdentifierByte(peek(6) ?? 0) {
                    for _ in 0..<6 { advance() }
                    return Token(.stateKey(directory: name), at: start)
                }
                if peek() == UInt8(ascii: "/"), let after = peek(1), isSegmentByte(after) || after == UInt8(ascii: "*") {
                    var segments: [String] = []
                    while peek() == UInt8(ascii: "/"), let after = peek(1), isSegmentByte(after) || after == UInt8(ascii: "*") {
                        advance()
                        segments.append(scan(while: Self.isPathByte))
                    }
                    return Token(.path(directory: name, segments: segments), at: start)
                }
                return Token(.identifier(name), at: start)
            }
            if isDigit(byte) {
                let digits = scan(while: isDigit)
                guard let value = Int128(digits) else {
                    diagnosticSelection.append(.error("E0701", "integer '\(digits)' is too large", at: start))
                    return Token(.integer(0), at: start)
                }
                return Token(.integer(value), at: start)
            }
            if byte == UInt8(ascii: "\"") {
                return Token(.string(scanString(start: start)), at: start)
            }
            for symbol in Self.symbols where matches(symbol) {
                for _ in 0..<symbol.utf8.count { advance() }
                return Token(.symbol(symbol), at: start)
            }
            skipUnexpected(from: start)
        }
    }

    /// How many bytes of a run of unexpected characters its E0702 message shows.
    static let unexpectedRunPreview = 16

    /// Skips a run of characters that start no token, reporting it once at its first byte: a file of
    /// binary garbage would otherwise give one diagnostic per byte (a million for a megabyte).
    private mutating func skipUnexpected(from start: SourceLocation) {
        let first = position
        repeat { advance() } while position < bytes.count && !startsToken(at: position)
        let run = bytes[first..<position]
        let preview = run.prefix(Self.unexpectedRunPreview).map(Self.spelling).joined()
        let message =
            run.count == 1
            ? "unexpected character '\(preview)'"
            : "unexpected characters '\(preview)\(run.count > Self.unexpectedRunPreview ? "…" : "")' (\(run.count) bytes)"
        diagnosticSelection.append(.error("E0702", message, at: start))
    }

    /// A byte of an unexpected run as its message shows it: ASCII as itself (the renderers make control
    /// characters visible), anything else as `\xNN`, since a run may cut a UTF-8 sequence anywhere.
    private static func spelling(_ byte: UInt8) -> String {
        byte < 0x80 ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    /// Whether the byte at `offset` is trivia or starts a token or comment: what ends a run of
    /// unexpected characters (`next()` decides in the same order).
    private func startsToken(at offset: Int) -> Bool {
        let byte = bytes[offset]
        if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "\"") { return true }
        if isIdentifierStart(byte) || isDigit(byte) { return true }
        guard Self.startsSymbol[Int(byte)] else {
            return byte == UInt8(ascii: "/") && offset + 1 < bytes.count && bytes[offset + 1] == UInt8(ascii: "/")
        }
        return Self.symbols.contains { symbol in
            symbol.utf8.count <= bytes.count - offset && symbol.utf8.elementsEqual(bytes[offset..<(offset + symbol.utf8.count)])
        }
    }

    /// Per byte value, whether some symbol starts with it (`&` only as `&&`).
    private static let startsSymbol: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for first in symbols.compactMap(\.utf8.first) { table[Int(first)] = true }
        return table
    }()

    /// Longest first, so `->` wins over `-` and `..` over `.`.
    static let symbols = [
        "->", "..", "==", "!=", "<=", ">=", "&&", "||", "=>", "<<",
        "{", "}", "(", ")", "[", "]", ";", ":", ",", "=", "|", "~", "*", "<", ">", "!", "+", "-", "%", ".",
    ]

    private func matches(_ text: String) -> Bool {
        var index = position
        for byte in text.utf8 {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    private mutating func scan(while predicate: (UInt8) -> Bool) -> String {
        let start = position
        while let byte = peek(), predicate(byte) { advance() }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func scanString(start: SourceLocation) -> String {
        advance()
        var value: [UInt8] = []
        while let byte = peek() {
            if byte == UInt8(ascii: "\"") {
                advance()
                return String(decoding: value, as: UTF8.self)
            }
            if byte == 0x0A { break }
            if byte == UInt8(ascii: "\\"), let escaped = peek(1) {
                advance()
                advance()
                switch escaped {
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "t"): value.append(0x09)
                default: value.append(escaped)
                }
                continue
            }
            value.append(byte)
            advance()
        }
        diagnosticSelection.append(.error("E0703", "unterminated string literal", at: start))
        return String(decoding: value, as: UTF8.self)
    }

    private func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
    }

    private func isIdentifierByte(_ byte: UInt8) -> Bool { isIdentifierStart(byte) || isDigit(byte) }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The xenstore path alphabet minus `/`, plus `{` `}` for index variables.
    private func isSegmentByte(_ byte: UInt8) -> Bool { Self.isPathByte(byte) && byte != UInt8(ascii: "*") }

    /// A segment byte or a glob star.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "@"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "*"):
            true
        default: false
        }
    }
}
