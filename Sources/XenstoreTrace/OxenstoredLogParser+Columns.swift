/// Fast readings of the columns of a common oxenstored line, a word at a time (`LineWord`). Each
/// gives up (`nil`) on anything unusual, and the parser then reads the column the general way,
/// which gives the same result or the diagnostic: these only spare the common lines the byte loops
/// and the name tables, which were about a sixth of the reading thread's work.
extension OxenstoredLogParser {
    /// The one-word operation names of up to eight bytes as words, the most frequent first (their
    /// names and kinds are those of `oneWordNames`).
    private static let nameWords: [(word: UInt64, length: Int, kind: Kind)] = {
        let names: [(StaticString, Kind)] = [
            ("write", .write), ("commit", .commit), ("rm", .rm), ("watch", .watch), ("mkdir", .mkdir), ("setperms", .setPermissions),
            ("read", .read), ("unwatch", .unwatch), ("getperms", .getPermissions), ("coalesce", .coalesce),
            ("conflict", .conflict), ("error", .error), ("debug", .otherNamed), ("resume", .resume), ("release", .release),
            ("newconn", .newConnection), ("endconn", .endConnection), ("invalid", .otherNamed), ("isintro", .otherNamed),
        ]
        return names.map { (LineWord.word($0.0), $0.0.utf8CodeUnitCount, $0.1) }
    }()

    /// A one-word operation name of up to eight bytes at `start`, followed by a blank or the end:
    /// its kind and the end of its name.
    @inline(__always)
    static func commonOperation(_ line: LineBytes, at start: Int) -> (Kind, Int)? {
        let word = LineWord.load(line, at: start)
        var length = LineWord.before(LineWord.blanks(word))
        if length == 8 && start &+ 8 < line.count && line[start &+ 8] != Scan.space && line[start &+ 8] != Scan.tab {
            return nil
        }
        length = Swift.min(length, line.count &- start)
        let name = word & LineWord.mask(length)
        for entry in nameWords where entry.word == name && entry.length == length { return (entry.kind, start &+ length) }
        return nil
    }

    /// `D<domid>` or `A<n>`, either with `.<tid>`, at `start` and followed by a blank or the end:
    /// the connection, the transaction (`nil` for none or 0) and the end of the column. The digits
    /// are read as `Scan.decimal` reads them (at most 18).
    @inline(__always)
    static func commonConnection(_ line: LineBytes, at start: Int) -> (Connection, Int?, Int)? {
        guard start < line.count else { return nil }
        let letter = line[start]
        guard letter == UInt8(ascii: "D") || letter == UInt8(ascii: "A") else { return nil }
        guard let (id, idEnd) = digits(line, from: start &+ 1) else { return nil }
        var end = idEnd
        var transaction: Int?
        if end < line.count && line[end] == UInt8(ascii: ".") {
            guard let (tid, tidEnd) = digits(line, from: end &+ 1) else { return nil }
            transaction = tid == 0 ? nil : tid
            end = tidEnd
        }
        guard end == line.count || line[end] == Scan.space || line[end] == Scan.tab else { return nil }
        return (letter == UInt8(ascii: "D") ? .domain(id) : .socket(id), transaction, end)
    }

    /// One to 18 decimal digits from `start` and the offset after them.
    @inline(__always)
    private static func digits(_ line: LineBytes, from start: Int) -> (Int, Int)? {
        var i = start
        var value = 0
        while i < line.count {
            let digit = line[i] &- UInt8(ascii: "0")
            if digit >= 10 { break }
            value = value &* 10 &+ Int(digit)
            i &+= 1
        }
        guard i > start, i &- start <= 18 else { return nil }
        return (value, i)
    }

    /// The end of the first space-separated field of `range` (its first space, or the end of the
    /// range) and whether the field is plain: ASCII without a backslash, so that its bytes are
    /// exactly its unescaped string. One pass, where finding the space, finding a backslash and
    /// checking for ASCII were three.
    @inline(__always)
    static func firstField(_ line: LineBytes, _ range: Range<Int>) -> (end: Int, plain: Bool) {
        var i = range.lowerBound
        var odd: UInt64 = 0
        while i < range.upperBound {
            var word = LineWord.load(line, at: i)
            let left = range.upperBound &- i
            if left < 8 { word &= LineWord.mask(left) }
            let spaces = ByteWord.matches(word, Scan.space)
            if spaces != 0 {
                let length = LineWord.before(spaces)
                let field = word & LineWord.mask(length)
                odd |= (field & LineWord.highs) | ByteWord.matches(field, UInt8(ascii: "\\"))
                return (i &+ length, odd == 0)
            }
            odd |= (word & LineWord.highs) | ByteWord.matches(word, UInt8(ascii: "\\"))
            i &+= 8
        }
        return (range.upperBound, odd == 0)
    }
}
