/// A small JSON reader for one line holding one object: strict RFC 8259 syntax, members read one at a
/// time, no intermediate tree. Nested objects and arrays are read (depth-limited) so that a line with
/// members the format does not define still parses.
struct JSONLineScanner {
    /// A member's value, as far as the trace format needs it.
    enum Value {
        case string(String)
        case integer(Int64)
        /// A number that is not an integer of 64 bits (a fraction, an exponent, or too large).
        case otherNumber
        case bool(Bool)
        case null
        case array([Value])
        case object

        /// What a message calls this kind of value.
        var kindName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .otherNumber: "a non-integer number"
            case .bool: "a boolean"
            case .null: "null"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    /// A member name: a range of the line, or (if it has escapes) the decoded text.
    enum Key {
        case plain(Range<Int>)
        case escaped(String)
    }

    /// A syntax error at a 0-based offset of the line.
    struct SyntaxError: Error {
        var message: String
        var offset: Int
    }

    private static let maximumDepth = 32

    let line: LineBytes
    private(set) var index = 0
    private var members = 0

    init(_ line: LineBytes) {
        self.line = line
    }

    private mutating func skipWhitespace() {
        while index < line.count {
            switch line[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func failure(_ message: String) -> SyntaxError {
        SyntaxError(message: message, offset: index)
    }

    /// Consumes the opening `{`.
    mutating func begin() throws(SyntaxError) {
        skipWhitespace()
        guard index < line.count, line[index] == UInt8(ascii: "{") else { throw failure("expected a JSON object starting with '{'") }
        index += 1
    }

    /// The next member's key, or `nil` after the closing `}`: its bytes between the quotes (escapes
    /// undone only if it has any) and the offset of its opening quote.
    mutating func nextKey() throws(SyntaxError) -> (Key, Int)? {
        skipWhitespace()
        guard index < line.count else { throw failure("the object is not closed: expected '}'") }
        if line[index] == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        if members > 0 {
            guard line[index] == UInt8(ascii: ",") else { throw failure("expected ',' or '}' after a member") }
            index += 1
            skipWhitespace()
        }
        guard index < line.count, line[index] == UInt8(ascii: "\"") else { throw failure("expected a member name in double quotes") }
        let offset = index
        let key: Key
        let end = Scan.find(UInt8(ascii: "\""), in: line, from: index + 1)
        if end < line.count, !line[(index + 1)..<end].contains(UInt8(ascii: "\\")),
            !line[(index + 1)..<end].contains(where: { $0 < 0x20 })
        {
            key = .plain((index + 1)..<end)
            index = end + 1
        } else {
            key = .escaped(try string())
        }
        skipWhitespace()
        guard index < line.count, line[index] == UInt8(ascii: ":") else { throw failure("expected ':' after the member name") }
        index += 1
        members += 1
        return (key, offset)
    }

    /// After the closing `}`: only whitespace may follow.
    mutating func end() throws(SyntaxError) {
        skipWhitespace()
        guard index == line.count else { throw failure("unexpected text after the object: one JSON object per line") }
    }

    /// The value at the current position.
    mutating func value(depth: Int = 0) throws(SyntaxError) -> Value {
        skipWhitespace()
        guard index < line.count else { throw failure("expected a value") }
        switch line[index] {
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw failure("values nested more than \(Self.maximumDepth) deep") }
            index += 1
            var elements: [Value] = []
            skipWhitespace()
            if index < line.count, line[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < line.count else { throw failure("the array is not closed: expected ']'") }
                if line[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                guard line[index] == UInt8(ascii: ",") else { throw failure("expected ',' or ']' in an array") }
                index += 1
            }
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw failure("values nested more than \(Self.maximumDepth) deep") }
            var nested = JSONLineScanner(line)
            nested.index = index
            try nested.begin()
            while try nested.nextKey() != nil { _ = try nested.value(depth: depth + 1) }
            index = nested.index
            return .object
        default:
            throw failure("expected a value (a string, number, true, false, null, array or object)")
        }
    }

    private mutating func literal(_ text: StaticString) throws(SyntaxError) {
        guard Scan.hasPrefix(line, text, at: index) else { throw failure("expected '\(text)'") }
        index += text.utf8CodeUnitCount
    }

    private mutating func number() throws(SyntaxError) -> Value {
        let start = index
        var negative = false
        if line[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let digitsStart = index
        while index < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[index]) { index += 1 }
        let digitCount = index - digitsStart
        guard digitCount > 0 else { throw failure("expected digits in a number") }
        guard !(digitCount > 1 && line[digitsStart] == UInt8(ascii: "0")) else {
            index = digitsStart
            throw failure("numbers must not have leading zeros")
        }
        var integral = true
        if index < line.count, line[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            let fractionStart = index
            while index < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[index]) { index += 1 }
            guard index > fractionStart else { throw failure("expected digits after the decimal point") }
        }
        if index < line.count, line[index] == UInt8(ascii: "e") || line[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < line.count, line[index] == UInt8(ascii: "+") || line[index] == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            while index < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[index]) { index += 1 }
            guard index > exponentStart else { throw failure("expected digits in the exponent") }
        }
        guard integral, let magnitude = Scan.decimal(line, digitsStart..<(digitsStart + digitCount)) else {
            _ = start
            return .otherNumber
        }
        return .integer(negative ? -Int64(magnitude) : Int64(magnitude))
    }

    /// A string starting at the opening quote.
    private mutating func string() throws(SyntaxError) -> String {
        index += 1
        let start = index
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") {
                let text = Scan.string(line, start..<index)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("control character in a string: write it as an escape") }
            index += 1
        }
        guard index < line.count else { throw failure("the string is not closed") }
        // Slow path: escapes.
        var bytes = Array(LineBytes(rebasing: line[start..<index]))
        while index < line.count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            guard byte >= 0x20 else { throw failure("control character in a string: write it as an escape") }
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            guard index + 1 < line.count else { break }
            let escape = line[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard Scan.hasPrefix(line, "\\u", at: index) else { throw failure("a high surrogate must be followed by a low one") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("a high surrogate must be followed by a low one") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw failure("a low surrogate without a high one")
                }
                bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                index -= 1
                throw failure("unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
        throw failure("the string is not closed")
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= line.count, let value = Scan.hexadecimal(line, index..<(index + 4)) else {
            throw failure("expected four hexadecimal digits after \\u")
        }
        index += 4
        return UInt32(value)
    }
}
