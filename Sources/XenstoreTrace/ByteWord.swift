/// Eight bytes as one little-endian `UInt64` (the first byte in the low bits): the byte test that the
/// trace reader's columns (`LineWord`) and the replay's path walk (`PathWord`) both make a word at a
/// time instead of a byte at a time.
public enum ByteWord {
    /// `0x01` in every byte.
    public static let ones: UInt64 = 0x0101_0101_0101_0101
    /// `0x7F` in every byte.
    public static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    /// `0x80` in every byte.
    public static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of every byte of `word` that equals `byte`, and nothing else: exact, since no
    /// carry from one byte reaches the next (so `/.` is not taken for `//`).
    @inlinable @inline(__always)
    public static func matches(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let zeroed = word ^ (ones &* UInt64(byte))
        return ~(((zeroed & lows) &+ lows) | zeroed | lows)
    }
}
