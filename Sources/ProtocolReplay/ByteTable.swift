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

    /// A multiply-xor hash over the bytes eight at a time (FNV-1a went byte by byte, about a tenth
    /// of the reading thread's work on path resolution); the last bytes are loaded as the path
    /// words are (`PathWord`), without reading past the key.
    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        let count = key.count
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(truncatingIfNeeded: count)
        guard let base = key.baseAddress else { return Int(truncatingIfNeeded: hash) }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index &+ 8 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash &>> 32
            index &+= 8
        }
        if index < count {
            var tail: UInt64 = 0
            if count >= 8 {
                // The key's last eight bytes, shifted down to the ones not hashed yet.
                let last = raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
                tail = UInt64(littleEndian: last) &>> UInt64(truncatingIfNeeded: (8 &- (count &- index)) &<< 3)
            } else {
                while index < count {
                    tail |= UInt64(base[index]) &<< UInt64(truncatingIfNeeded: index &<< 3)
                    index &+= 1
                }
            }
            hash = (hash ^ tail) &* 0x9E37_79B9_7F4A_7C15
        }
        return Int(truncatingIfNeeded: hash ^ (hash &>> 29))
    }

    /// The index in `entries` of `key`, or -1 when it is not in the table.
    @inline(__always)
    func entry(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var slot = Self.hash(key) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return -1 }
            if Int(keyLength[index]) == key.count
                && (key.count == 0 || memcmp(bytes.baseAddress! + Int(keyStart[index]), key.baseAddress!, key.count) == 0)
            {
                return index
            }
            slot = (slot &+ 1) & mask
        }
    }

    /// The value of `key`, if it is in the table.
    func value(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        let index = entry(key)
        return index < 0 ? nil : Int(values[index])
    }

    /// The value of `key`, if it is in the table.
    subscript(key: Substring) -> Int? {
        if let found = key.utf8.withContiguousStorageIfAvailable({ value($0) }) { return found }
        return Array(key.utf8).withUnsafeBufferPointer { value($0) }
    }

    /// The value of `key`, if it is in the table.
    subscript(key: String) -> Int? { self[Substring(key)] }
}
