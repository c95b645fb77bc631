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
    private var lineStarts: [Int] = [0]
    /// The byte offset after the previous start tag's name, where the search for the next one starts.
    private var cursor = 0
    /// The 0-based line of the previous start tag: the next one is on it or a little further.
    private var lineHint = 0

    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
        var position = 0
        while let newline = index(of: UInt8(ascii: "\n"), from: position) {
            lineStarts.append(newline + 1)
            position = newline + 1
        }
    }

    /// The location of the next start tag, which must be `<qualifiedName`, and its byte offset.
    ///
    /// `line` is libxml2's line for the element: the fallback (with column 0) when the bytes do not
    /// hold the name as UTF-8, e.g. in a UTF-16 or Latin-1 file, and a bound, since a start tag cannot
    /// begin after the line where libxml2 saw it end.
    mutating func element(named qualifiedName: String, line: Int) -> (SourceLocation, offset: Int?) {
        var name = qualifiedName
        return name.withUTF8 { element(prefix: UnsafeBufferPointer(start: nil, count: 0), localName: $0, line: line) }
    }

    /// ``element(named:line:)`` for the name `prefix:localName` (or `localName` when `prefix` is
    /// empty) given as UTF-8 bytes, as the streaming reader has them, without building a string.
    mutating func element(
        prefix: UnsafeBufferPointer<UInt8>, localName: UnsafeBufferPointer<UInt8>, line: Int
    ) -> (SourceLocation, offset: Int?) {
        let fallback = (SourceLocation(file: file, line: max(line, 0)), offset: Int?.none)
        guard let position = nextStartTag(from: cursor) else { return fallback }
        let nameStart = position + 1
        let count = bytes.count
        let (nameEnd, matches) = bytes.withUnsafeBufferPointer { buffer -> (Int, Bool) in
            var nameEnd = nameStart
            while nameEnd < count, isNameByte(buffer[nameEnd]) { nameEnd += 1 }
            let expected = prefix.isEmpty ? localName.count : prefix.count + 1 + localName.count
            guard nameEnd - nameStart == expected else { return (nameEnd, false) }
            var at = nameStart
            if !prefix.isEmpty {
                guard memcmp(buffer.baseAddress! + at, prefix.baseAddress!, prefix.count) == 0 else { return (nameEnd, false) }
                at += prefix.count
                guard buffer[at] == UInt8(ascii: ":") else { return (nameEnd, false) }
                at += 1
            }
            let same = localName.isEmpty || memcmp(buffer.baseAddress! + at, localName.baseAddress!, localName.count) == 0
            return (nameEnd, same)
        }
        // Step past this tag even if its name does not match, so one odd tag does not shift the rest.
        cursor = nameEnd
        guard matches else { return fallback }
        let location = locationAfterHint(ofOffset: position)
        guard line <= 0 || location.line <= line else { return fallback }
        return (location, position)
    }

    /// The location of the first `<!DOCTYPE`, found the way the parser finds it: after the XML
    /// declaration, comments, processing instructions and whitespace of the prolog.
    func doctype() -> SourceLocation? {
        var position = 0
        while let next = nextMarkup(from: position) {
            if starts(with: "<!DOCTYPE", at: next) { return location(ofOffset: next) }
            if starts(with: "<!--", at: next) || starts(with: "<?", at: next) {
                position = skipped(from: next) ?? bytes.count
            } else {
                return nil
            }
        }
        return nil
    }

    /// The offset of the next `<` at or after `offset` that opens a start tag.
    private func nextStartTag(from offset: Int) -> Int? {
        var position = offset
        while let next = nextMarkup(from: position) {
            guard next + 1 < bytes.count else { return nil }
            let byte = bytes[next + 1]
            if byte == UInt8(ascii: "!") || byte == UInt8(ascii: "?") {
                guard let after = skipped(from: next) else { return nil }
                position = after
            } else if byte == UInt8(ascii: "/") {
                position = next + 2
            } else {
                return next
            }
        }
        return nil
    }

    /// The offset of the next `<` at or after `offset`.
    private func nextMarkup(from offset: Int) -> Int? {
        index(of: UInt8(ascii: "<"), from: offset)
    }

    /// The offset of the next `byte` at or after `offset`. Every search of the locator goes through
    /// memchr: a byte loop takes seconds over a 20 MB text node in a debug build (`swift test`).
    private func index(of byte: UInt8, from offset: Int) -> Int? {
        guard offset < bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            let start = buffer.baseAddress! + offset
            guard let found = memchr(start, Int32(byte), buffer.count - offset) else { return nil }
            return offset + (UnsafeRawPointer(found) - UnsafeRawPointer(start))
        }
    }

    /// The offset after the comment, CDATA section, processing instruction or declaration at `offset`.
    /// A declaration ends at its first `>`; only a DOCTYPE could hold more, and those are refused.
    private func skipped(from offset: Int) -> Int? {
        let terminator =
            if starts(with: "<!--", at: offset) {
                "-->"
            } else if starts(with: "<![CDATA[", at: offset) {
                "]]>"
            } else if starts(with: "<?", at: offset) {
                "?>"
            } else {
                ">"
            }
        let needle = Array(terminator.utf8)
        // Each terminator ends in `>`: look only where one is.
        var position = offset + 2
        while let close = index(of: UInt8(ascii: ">"), from: position) {
            let start = close + 1 - needle.count
            if start >= offset + 2, bytes[start...close].elementsEqual(needle) { return close + 1 }
            position = close + 1
        }
        return nil
    }

    private func starts(with prefix: String, at offset: Int) -> Bool {
        let needle = Array(prefix.utf8)
        return offset + needle.count <= bytes.count && bytes[offset..<(offset + needle.count)].elementsEqual(needle)
    }

    /// The location of attribute `name` inside the start tag beginning at `offset`.
    func attribute(named name: String, tagOffset: Int?, fallback: SourceLocation) -> SourceLocation {
        guard let tagOffset else { return fallback }
        let needle = Array(name.utf8)
        // Start after `<` and the element's name: the name is no attribute (`<name name="x">`), and
        // a tag at offset 0 has no byte before it to test below.
        var position = tagOffset + 1
        while position < bytes.count, isNameByte(bytes[position]) { position += 1 }
        var quote: UInt8? = nil
        while position + needle.count < bytes.count {
            let byte = bytes[position]
            if let open = quote {
                // Skip the value in one search; a value may be megabytes long.
                guard let close = index(of: open, from: position) else { break }
                quote = nil
                position = close + 1
                continue
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                break
            } else if !isNameByte(bytes[position - 1]),
                bytes[position..<(position + needle.count)].elementsEqual(needle),
                !isNameByte(bytes[position + needle.count])
            {
                return location(ofOffset: position)
            }
            position += 1
        }
        return fallback
    }

    /// ``location(ofOffset:)`` for offsets in increasing order: start tags are located one after
    /// another, each a line or two after the previous one, so search forward from there.
    private mutating func locationAfterHint(ofOffset offset: Int) -> SourceLocation {
        var line = lineHint
        guard line < lineStarts.count, lineStarts[line] <= offset else { return location(ofOffset: offset) }
        var steps = 0
        while line + 1 < lineStarts.count, lineStarts[line + 1] <= offset {
            line += 1
            steps += 1
            // Far ahead (a long text or comment in between): bisect instead.
            if steps == 16 {
                let found = location(ofOffset: offset)
                lineHint = found.line - 1
                return found
            }
        }
        lineHint = line
        return SourceLocation(file: file, line: line + 1, column: offset - lineStarts[line] + 1)
    }

    /// The line and column of a byte offset.
    func location(ofOffset offset: Int) -> SourceLocation {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return SourceLocation(file: file, line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: ":"), 0x80...0xFF:
            true
        default: false
        }
    }
}
