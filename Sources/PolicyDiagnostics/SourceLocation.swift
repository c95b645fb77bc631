/// A position in an input file: 1-based line and column (columns count UTF-8 bytes).
///
/// A column of 0 means "the whole line" (libxml2 reports schema errors per element line);
/// a line of 0 means "the whole file" (I/O problems, blobs without line structure).
public struct SourceLocation: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The path of the file as the user named it.
    public var file: String
    /// 1-based line, or 0 when the location is the whole file.
    public var line: Int
    /// 1-based column in UTF-8 bytes, or 0 when unknown.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, leaving out the parts that are unknown.
    public var description: String {
        guard line > 0 else { return file }
        guard column > 0 else { return "\(file):\(line)" }
        return "\(file):\(line):\(column)"
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}
