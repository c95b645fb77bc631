import XenstoreTrace

/// One segment of a path being resolved: its bytes `start..<end` and its first eight bytes as a
/// word (`PathWord`).
struct PathSegment {
    var start: Int
    var end: Int
    var word: UInt64
}

/// Word-at-a-time helpers for the bytes of a xenstore path: eight bytes are loaded as one
/// little-endian `UInt64` (the first byte in the low bits), so that finding a `/`, comparing a short
/// segment with a name and checking for digits take a few instructions each instead of a loop or a
/// call per segment. Nothing is read outside the path: near its end, its last eight bytes are loaded
/// and shifted, and a path shorter than eight bytes is read byte by byte.
enum PathWord {
    private static let ones = ByteWord.ones
    private static let lows = ByteWord.lows
    private static let highs = ByteWord.highs

    /// The low `count` bytes of a word set (all of them from eight on).
    @inline(__always)
    static func mask(_ count: Int) -> UInt64 {
        count >= 8 ? ~0 : (1 &<< UInt64(truncatingIfNeeded: count &<< 3)) &- 1
    }

    /// The first eight bytes of `name` as a word, zero-padded: what `segment` gives for the same bytes.
    static func word(_ name: some Collection<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for (index, byte) in name.prefix(8).enumerated() { word |= UInt64(byte) << UInt64(8 * index) }
        return word
    }

    /// The eight bytes at `start`, or the bytes from `start` to the end in the low bits when fewer
    /// than eight are left (zero above them).
    @inline(__always)
    private static func word(_ base: UnsafePointer<UInt8>, _ length: Int, at start: Int) -> UInt64 {
        let raw = UnsafeRawPointer(base)
        if start &+ 8 <= length { return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
        let left = length &- start
        if length >= 8 {
            // The path's last eight bytes, shifted down so that `start` is the lowest.
            let last = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self))
            return last &>> UInt64(truncatingIfNeeded: (8 &- left) &<< 3)
        }
        var word: UInt64 = 0
        var index = 0
        while index < left {
            word |= UInt64(base[start &+ index]) &<< UInt64(truncatingIfNeeded: index &<< 3)
            index &+= 1
        }
        return word
    }

    /// The segment that starts at `start` (after a `/`): it ends at the next `/` or at the end.
    @inline(__always)
    static func segment(_ base: UnsafePointer<UInt8>, _ length: Int, from start: Int) -> PathSegment {
        guard start < length else { return PathSegment(start: start, end: start, word: 0) }
        let first = word(base, length, at: start)
        // Bytes past the end are zero in the word, never a `/`.
        let slashes = ByteWord.matches(first, UInt8(ascii: "/"))
        if slashes != 0 {
            let size = slashes.trailingZeroBitCount &>> 3
            return PathSegment(start: start, end: start &+ size, word: first & mask(size))
        }
        if start &+ 8 >= length {
            return PathSegment(start: start, end: length, word: first)
        }
        return PathSegment(start: start, end: segmentEnd(base, length, from: start &+ 8), word: first)
    }

    /// The offset of the first `/` at or after `start`, or `length`.
    static func segmentEnd(_ base: UnsafePointer<UInt8>, _ length: Int, from start: Int) -> Int {
        var index = start
        while index < length {
            let slashes = ByteWord.matches(word(base, length, at: index), UInt8(ascii: "/"))
            if slashes != 0 { return index &+ slashes.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        return length
    }

    /// Whether the `count` bytes (one to eight) of `word` are a canonical decimal number: digits
    /// only, and no leading zero unless it is `0` itself.
    @inline(__always)
    static func isCanonicalDecimal(_ word: UInt64, _ count: Int) -> Bool {
        // Digits become 0-9; any byte of 10 or more sets its high bit once 0x76 is added (the
        // addition is done on seven bits, so it never carries into the next byte).
        let values = word ^ (ones &* 0x30)
        let nonDigits = (((values & lows) &+ (ones &* 0x76)) | values) & highs & mask(count)
        return nonDigits == 0 && (count == 1 || word & 0xFF != UInt64(UInt8(ascii: "0")))
    }

    /// The value of the `count` digits (one to eight) of `word`, which `isCanonicalDecimal` accepted:
    /// the digits are moved to the top of the word (zeros below count as leading zeros) and combined
    /// in pairs, then fours, then eights, with three multiplications instead of a loop per digit.
    @inline(__always)
    static func decimalValue(_ word: UInt64, _ count: Int) -> Int {
        var value = (word &<< UInt64(truncatingIfNeeded: (8 &- count) &<< 3)) & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* 2561) &>> 8 & 0x00FF_00FF_00FF_00FF
        value = (value &* 6_553_601) &>> 16 & 0x0000_FFFF_0000_FFFF
        value = (value &* 42_949_672_960_001) &>> 32
        return Int(truncatingIfNeeded: value)
    }

    /// Whether the path from `start` (a `/` or the end) to its end has an empty segment: two `/` in a
    /// row, or a `/` at the end. The bytes before `start` must have none (the words read overlap them).
    static func hasEmptySegment(_ base: UnsafePointer<UInt8>, _ length: Int, from start: Int) -> Bool {
        guard start < length else { return false }
        if base[length &- 1] == UInt8(ascii: "/") { return true }
        var index = start
        while index &+ 1 < length {
            let slashes = ByteWord.matches(word(base, length, at: index), UInt8(ascii: "/"))
            if slashes & (slashes &>> 8) != 0 { return true }
            // The next word starts at this one's last byte, so that a pair across the two is seen.
            index &+= 7
        }
        return false
    }
}
