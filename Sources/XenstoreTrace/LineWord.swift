/// Word-at-a-time helpers for the columns of a trace line: eight bytes are loaded as one
/// little-endian `UInt64` (the first byte in the low bits), so that finding a blank, comparing an
/// operation's name or checking a path for escapes takes a few instructions per eight bytes instead
/// of a loop or a call per byte. Nothing is read outside the line: bytes past its end are zero in the
/// word, which is none of the bytes looked for.
enum LineWord {
    static let ones = ByteWord.ones
    static let highs = ByteWord.highs

    /// The eight bytes at `index`, or the bytes from `index` to the end in the low bits when fewer
    /// than eight are left (zero above them).
    @inline(__always)
    static func load(_ line: LineBytes, at index: Int) -> UInt64 {
        let base = line.baseAddress!
        if index &+ 8 <= line.count {
            return UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(fromByteOffset: index, as: UInt64.self))
        }
        var word: UInt64 = 0
        var i = line.count &- 1
        while i >= index {
            word = word &<< 8 | UInt64(base[i])
            i &-= 1
        }
        return word
    }

    /// The first eight bytes of `text` as a word, zero-padded: what `load` gives for the same bytes.
    static func word(_ text: StaticString) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<min(8, text.utf8CodeUnitCount) { word |= UInt64(text.utf8Start[index]) << UInt64(8 * index) }
        return word
    }

    /// The high bit of every blank byte (space or tab) of `word`.
    @inline(__always)
    static func blanks(_ word: UInt64) -> UInt64 {
        ByteWord.matches(word, Scan.space) | ByteWord.matches(word, Scan.tab)
    }

    /// The number of bytes of `word` before the first one marked in `marks` (8 when none is).
    @inline(__always)
    static func before(_ marks: UInt64) -> Int {
        marks.trailingZeroBitCount &>> 3
    }

    /// The low `count` bytes of a word set (all of them from eight on).
    @inline(__always)
    static func mask(_ count: Int) -> UInt64 {
        count >= 8 ? ~0 : (1 &<< UInt64(truncatingIfNeeded: count &<< 3)) &- 1
    }

    /// The first offset at or after `index` that is not a space or tab (or the end).
    @inline(__always)
    static func skipBlanks(_ line: LineBytes, from index: Int) -> Int {
        var i = index
        while i < line.count {
            let others = ~blanks(load(line, at: i)) & highs
            if others != 0 { return Swift.min(i &+ before(others), line.count) }
            i &+= 8
        }
        return line.count
    }
}
