import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Gives elements exact lines and columns by finding their start tags in the source bytes.
///
/// libxml2 records no column for elements, and its line is where the start tag *ends* (the SAX
/// callback runs after the attributes are read), so a tag spread over several lines would be put on
/// its last line. Elements are visited in document order, so the n-th element is the n-th start tag
/// in the bytes, once comments, CDATA sections, processing instructions and end tags are skipped
/// (a look-alike `<Type` inside a comment on the same line must not be taken for the element).
struct SourceLocator {
    let file: String
    private let bytes: [UInt8]
    private var lineStarts: [Int]
    /// The byte offset after the previous start tag's name, where the search for the next one starts.
    private var cursor = 0
    /// The 0-based line of the previous start tag: the next one is on it or a little further.
    private var lineHint = 0

    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
        lineStarts = bytes.withUnsafeBufferPointer { input in
            var starts = [0]
            var position = 0
            while let newline = Self.index(of: UInt8(ascii: "\n"), from: position, in: input) {
                starts.append(newline + 1)
                position = newline + 1
            }
            return starts
        }
    }

    /// The line, column and byte offset of the next start tag, which must be `<prefix:localName`
    /// (`<localName` when `prefix` is empty; names as UTF-8 bytes); nil if it is not.
    ///
    /// `line` is libxml2's line for the element: the caller's fallback (with column 0) when the bytes
    /// do not hold the name as UTF-8, e.g. in a UTF-16 or Latin-1 file, and a bound, since a start tag
    /// cannot begin after the line where libxml2 saw it end. `input` is the locator's own bytes, which
    /// the reader holds as a buffer while it parses. Nothing is allocated and nothing is
    /// reference-counted.
    mutating func nextElement(
        in input: UnsafeBufferPointer<UInt8>, prefix: UnsafeBufferPointer<UInt8>, localName: UnsafeBufferPointer<UInt8>,
        line: Int
    ) -> (line: Int, column: Int, offset: Int)? {
        assert(input.count == bytes.count, "the locator's input is its own bytes")
        guard let position = Self.nextStartTag(from: cursor, in: input) else { return nil }
        let nameStart = position + 1
        // The tag's name runs to the first byte that cannot be part of a name. It is the element's
        // name if it has the expected bytes and ends where they do.
        let expected = prefix.isEmpty ? localName.count : prefix.count + 1 + localName.count
        var matches = nameStart + expected <= input.count
        if matches, !prefix.isEmpty {
            matches =
                memcmp(input.baseAddress! + nameStart, prefix.baseAddress!, prefix.count) == 0
                && input[nameStart + prefix.count] == UInt8(ascii: ":")
        }
        if matches, !localName.isEmpty {
            matches = memcmp(input.baseAddress! + nameStart + expected - localName.count, localName.baseAddress!, localName.count) == 0
        }
        if matches, nameStart + expected < input.count {
            matches = !Self.isNameByte(input[nameStart + expected])
        }
        // Step past this tag even if its name does not match, so one odd tag does not shift the rest.
        if matches {
            cursor = nameStart + expected
        } else {
            var nameEnd = nameStart
            while nameEnd < input.count, Self.isNameByte(input[nameEnd]) { nameEnd += 1 }
            cursor = nameEnd
            return nil
        }
        let (foundLine, column) = lineAndColumnAfterHint(ofOffset: position)
        guard line <= 0 || foundLine <= line else { return nil }
        return (foundLine, column, position)
    }

    /// The location of the first `<!DOCTYPE`, found the way the parser finds it: after the XML
    /// declaration, comments, processing instructions and whitespace of the prolog.
    func doctype() -> SourceLocation? {
        let offset: Int? = bytes.withUnsafeBufferPointer { input in
            var position = 0
            while let next = Self.index(of: UInt8(ascii: "<"), from: position, in: input) {
                if Self.starts(with: "<!DOCTYPE", at: next, in: input) { return next }
                if Self.starts(with: "<!--", at: next, in: input) || Self.starts(with: "<?", at: next, in: input) {
                    position = Self.skipped(from: next, in: input) ?? input.count
                } else {
                    return nil
                }
            }
            return nil
        }
        return offset.map { location(ofOffset: $0) }
    }

    /// The offset of the next `<` at or after `offset` that opens a start tag.
    private static func nextStartTag(from offset: Int, in input: UnsafeBufferPointer<UInt8>) -> Int? {
        var position = offset
        while let next = index(of: UInt8(ascii: "<"), from: position, in: input) {
            guard next + 1 < input.count else { return nil }
            let byte = input[next + 1]
            if byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?") {
                guard let after = skipped(from: next, in: input) else { return nil }
                position = after
            } else if byte == UInt8(ascii: "/") {
                position = next + 2
            } else {
                return next
            }
        }
        return nil
    }

    /// The offset of the next `byte` at or after `offset`. Every search of the locator goes through
    /// memchr: a byte loop takes seconds over a 20 MB text node in a debug build (`swift test`).
    private static func index(of byte: UInt8, from offset: Int, in input: UnsafeBufferPointer<UInt8>) -> Int? {
        guard offset < input.count, let base = input.baseAddress else { return nil }
        guard let found = memchr(base + offset, Int32(byte), input.count - offset) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// The offset after the comment, CDATA section, processing instruction or declaration at `offset`.
    /// A declaration ends at its first `>`; only a DOCTYPE could hold more, and those are refused.
    private static func skipped(from offset: Int, in input: UnsafeBufferPointer<UInt8>) -> Int? {
        let terminator: StaticString =
            if starts(with: "<!--", at: offset, in: input) {
                "-->"
            } else if starts(with: "<![CDATA[", at: offset, in: input) {
                "]]>"
            } else if starts(with: "<?", at: offset, in: input) {
                "?>"
            } else {
                ">"
            }
        // Each terminator ends in `>`: look only where one is.
        let length = terminator.utf8CodeUnitCount
        var position = offset + 2
        while let close = index(of: UInt8(ascii: ">"), from: position, in: input) {
            let start = close + 1 - length
            if start >= offset + 2, starts(with: terminator, at: start, in: input) { return close + 1 }
            position = close + 1
        }
        return nil
    }

    private static func starts(with prefix: StaticString, at offset: Int, in input: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard offset >= 0, offset + length <= input.count else { return false }
        return memcmp(input.baseAddress! + offset, prefix.utf8Start, length) == 0
    }

    /// The location of attribute `name` inside the start tag beginning at `offset`.
    func attribute(named name: String, tagOffset: Int?, fallback: SourceLocation) -> SourceLocation {
        guard let tagOffset else { return fallback }
        let needle = Array(name.utf8)
        let found: Int? = bytes.withUnsafeBufferPointer { input in
            // Start after `<` and the element's name: the name is no attribute (`<name name="x">`), and
            // a tag at offset 0 has no byte before it to test below.
            var position = tagOffset + 1
            while position < input.count, Self.isNameByte(input[position]) { position += 1 }
            var quote: UInt8? = nil
            while position + needle.count < input.count {
                let byte = input[position]
                if let open = quote {
                    // Skip the value in one search; a value may be megabytes long.
                    guard let close = Self.index(of: open, from: position, in: input) else { break }
                    quote = nil
                    position = close + 1
                    continue
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    break
                } else if !Self.isNameByte(input[position - 1]),
                    input[position..<(position + needle.count)].elementsEqual(needle),
                    !Self.isNameByte(input[position + needle.count])
                {
                    return position
                }
                position += 1
            }
            return nil
        }
        return found.map { location(ofOffset: $0) } ?? fallback
    }

    /// ``location(ofOffset:)`` as a line and a column, for offsets in increasing order: start tags
    /// are located one after another, each a line or two after the previous one, so search forward
    /// from there.
    private mutating func lineAndColumnAfterHint(ofOffset offset: Int) -> (line: Int, column: Int) {
        var line = lineHint
        if line < lineStarts.count, lineStarts[line] <= offset {
            var steps = 0
            while line + 1 < lineStarts.count, lineStarts[line + 1] <= offset {
                line += 1
                steps += 1
                // Far ahead (a long text or comment in between): bisect instead.
                if steps == 16 {
                    line = lineIndex(ofOffset: offset)
                    break
                }
            }
        } else {
            line = lineIndex(ofOffset: offset)
        }
        lineHint = line
        return (line + 1, offset - lineStarts[line] + 1)
    }

    /// The 0-based line holding byte `offset`.
    private func lineIndex(ofOffset offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// The line and column of a byte offset.
    func location(ofOffset offset: Int) -> SourceLocation {
        let line = lineIndex(ofOffset: offset)
        return SourceLocation(file: file, line: line + 1, column: offset - lineStarts[line] + 1)
    }

    /// Whether `byte` can be part of a name as the locator reads names: ASCII letters, digits,
    /// `_ - . :` and every byte of a multi-byte UTF-8 character.
    @inline(__always)
    private static func isNameByte(_ byte: UInt8) -> Bool {
        // Bit n of the mask is ASCII character 64 * half + n: `-` `.` `0`-`9` `:` in the lower half,
        // `A`-`Z` `_` `a`-`z` in the upper.
        let lower: UInt64 = 0x07FF_6000_0000_0000
        let upper: UInt64 = 0x07FF_FFFE_87FF_FFFE
        guard byte < 0x80 else { return true }
        return (byte < 64 ? lower >> byte : upper >> (byte - 64)) & 1 != 0
    }
}
