/// Where each line of an input starts and how long it is, to check that diagnostics point inside it.
public struct LineTable {
    /// The length in bytes of each line, without its line feed. A final line feed starts one more,
    /// empty, line: a diagnostic at the end of the input points there.
    public let lengths: [Int]

    public init(_ bytes: [UInt8]) {
        lengths = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(\.count)
    }

    /// Whether `line`:`column` (1-based; the column may be one past the line's end) is in the input.
    public func contains(line: Int, column: Int) -> Bool {
        guard line >= 1, line <= lengths.count else { return false }
        return column >= 1 && column <= lengths[line - 1] + 1
    }
}
