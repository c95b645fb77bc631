#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Looks up source lines for excerpts under diagnostics.
public protocol SourceLineProvider {
    /// The text of 1-based line `line` of `file`, without its line terminator, or nil if unknown.
    func text(ofLine line: Int, in file: String) -> String?

    /// The bytes of the line as read, which columns count: unlike `text(ofLine:in:)`, whose invalid
    /// UTF-8 is replaced by U+FFFD (three bytes for each bad one), they keep every column in place.
    func bytes(ofLine line: Int, in file: String) -> ArraySlice<UInt8>?
}

extension SourceLineProvider {
    /// The UTF-8 of `text(ofLine:in:)`, for providers that hold text (it is valid UTF-8).
    public func bytes(ofLine line: Int, in file: String) -> ArraySlice<UInt8>? {
        text(ofLine: line, in: file).map { Array($0.utf8)[...] }
    }
}

/// Source lines of files held in memory (the bytes the reader actually parsed).
public struct SourceLines: SourceLineProvider, Sendable {
    private var files: [String: [UInt8]] = [:]
    private var lineStarts: [String: [Int]] = [:]

    public init() {}

    /// Registers the contents of `file`.
    public mutating func add(file: String, contents: [UInt8]) {
        files[file] = contents
        // memchr finds the line ends of a 4 MB policy in a millisecond; a byte loop took ten.
        lineStarts[file] = contents.withUnsafeBufferPointer { bytes in
            var starts = [0]
            guard let base = bytes.baseAddress else { return starts }
            var position = 0
            while position < bytes.count, let newline = memchr(base + position, 0x0A, bytes.count - position) {
                position = UnsafeRawPointer(newline) - UnsafeRawPointer(base) + 1
                starts.append(position)
            }
            return starts
        }
    }

    /// Adds every file of `other`.
    public mutating func merge(_ other: SourceLines) {
        files.merge(other.files) { _, new in new }
        lineStarts.merge(other.lineStarts) { _, new in new }
    }

    public func text(ofLine line: Int, in file: String) -> String? {
        bytes(ofLine: line, in: file).map { String(decoding: $0, as: UTF8.self) }
    }

    public func bytes(ofLine line: Int, in file: String) -> ArraySlice<UInt8>? {
        guard let bytes = files[file], let starts = lineStarts[file], line >= 1, line <= starts.count else {
            return nil
        }
        let start = starts[line - 1]
        var end = line < starts.count ? starts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end >= start else { return [] }
        return bytes[start..<end]
    }
}
