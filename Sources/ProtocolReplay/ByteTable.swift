#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An immutable map from byte strings (relative paths of declared keys) to small integers, built
/// once per protocol and asked for every message: open addressing over an FNV-1a hash of the
/// bytes, in unmanaged buffers, so a lookup neither hashes a `String` with SipHash nor retains
/// anything.
final class ByteTable {
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let keyStart: UnsafeMutableBufferPointer<Int32>
    private let keyLength: UnsafeMutableBufferPointer<Int32>
    private let values: UnsafeMutableBufferPointer<Int32>
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let mask: Int
    /// The entries, in the order given.
    let entries: [(key: String, value: Int)]

    /// A table of `entries`; of two entries with the same key, the first wins.
    init(_ entries: [(key: String, value: Int)]) {
        var kept: [(key: String, value: Int)] = []
        var seen = Set<String>()
        for entry in entries where seen.insert(entry.key).inserted { kept.append(entry) }
        self.entries = kept
        var capacity = 8
        while capacity < 2 * kept.count { capacity *= 2 }
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: -1)
        let count = max(1, kept.count)
        keyStart = .allocate(capacity: count)
        keyLength = .allocate(capacity: count)
        values = .allocate(capacity: count)
        let allBytes = kept.flatMap { Array($0.key.utf8) }
        bytes = .allocate(capacity: max(1, allBytes.count))
        _ = bytes.initialize(from: allBytes)
        var offset = 0
        for (index, entry) in kept.enumerated() {
            let length = entry.key.utf8.count
            keyStart[index] = Int32(offset)
            keyLength[index] = Int32(length)
            values[index] = Int32(entry.value)
            var slot = Array(entry.key.utf8).withUnsafeBufferPointer { Self.hash($0) } & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
            offset += length
        }
    }

    deinit {
        slots.deallocate()
        keyStart.deallocate()
        keyLength.deallocate()
        values.deallocate()
        bytes.deallocate()
    }

    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    /// The value of `key`, if it is in the table.
    func value(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        var slot = Self.hash(key) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if Int(keyLength[index]) == key.count
                && (key.count == 0 || memcmp(bytes.baseAddress! + Int(keyStart[index]), key.baseAddress!, key.count) == 0)
            {
                return Int(values[index])
            }
            slot = (slot + 1) & mask
        }
    }

    /// The value of `key`, if it is in the table.
    subscript(key: Substring) -> Int? {
        if let found = key.utf8.withContiguousStorageIfAvailable({ value($0) }) { return found }
        return Array(key.utf8).withUnsafeBufferPointer { value($0) }
    }

    /// The value of `key`, if it is in the table.
    subscript(key: String) -> Int? { self[Substring(key)] }
}
