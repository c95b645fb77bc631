import PolicyDiagnostics

/// Turns libxml2's per-element line numbers into exact columns by finding the start tag on its line.
///
/// libxml2 records no column for elements. Elements are visited in document order, so the n-th
/// element on a line is the n-th `<name` found on it after the previous one.
struct SourceLocator {
    let file: String
    private let bytes: [UInt8]
    private var lineStarts: [Int] = [0]
    /// Per line, the byte offset after the last start tag found, so the next search starts there.
    private var cursor: [Int: Int] = [:]

    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            lineStarts.append(index + 1)
        }
    }

    /// The location of the next start tag `<qualifiedName` on `line`, and its byte offset.
    mutating func element(named qualifiedName: String, line: Int) -> (SourceLocation, offset: Int?) {
        guard line >= 1, line <= lineStarts.count else { return (SourceLocation(file: file, line: max(line, 0)), nil) }
        let lineStart = lineStarts[line - 1]
        let lineEnd = line < lineStarts.count ? lineStarts[line] : bytes.count
        let needle = [UInt8(ascii: "<")] + Array(qualifiedName.utf8)
        var position = cursor[line] ?? lineStart
        while position + needle.count <= lineEnd {
            if bytes[position] == needle[0], bytes[position..<(position + needle.count)].elementsEqual(needle) {
                let after = position + needle.count
                // `<Type` must not match `<TypeX`.
                if after >= bytes.count || !isNameByte(bytes[after]) {
                    cursor[line] = after
                    return (SourceLocation(file: file, line: line, column: position - lineStart + 1), position)
                }
            }
            position += 1
        }
        return (SourceLocation(file: file, line: line, column: 0), nil)
    }

    /// The location of attribute `name` inside the start tag beginning at `offset`.
    func attribute(named name: String, tagOffset: Int?, fallback: SourceLocation) -> SourceLocation {
        guard let tagOffset else { return fallback }
        let needle = Array(name.utf8)
        var position = tagOffset
        var quote: UInt8? = nil
        while position + needle.count < bytes.count {
            let byte = bytes[position]
            if let open = quote {
                if byte == open { quote = nil }
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
