#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Remembers, per parent path (`/local/domain/0/backend/vbd/5/768`), where the paths below it lie when
/// the answer does not depend on their last segment (`DirectoryIndex.locate(_:lastSegmentIndependent:)`):
/// most messages write a key of a directory seen a moment ago, and looking the parent up costs a
/// fraction of walking the trie. Direct-mapped, fixed size (parents up to 120 bytes), so its memory
/// does not grow with the trace; used by one thread.
final class LocationCache {
    private static let slotCount = 8192
    private static let slotBytes = 120

    private let hashes: UnsafeMutableBufferPointer<UInt64>
    private let lengths: UnsafeMutableBufferPointer<Int32>
    private let keys: UnsafeMutableBufferPointer<UInt8>
    @exclusivity(unchecked) private var locations: [DirectoryIndex.ByteLocation]

    init() {
        hashes = .allocate(capacity: Self.slotCount)
        hashes.initialize(repeating: 0)
        lengths = .allocate(capacity: Self.slotCount)
        lengths.initialize(repeating: -1)
        keys = .allocate(capacity: Self.slotCount * Self.slotBytes)
        keys.initialize(repeating: 0)
        locations = [DirectoryIndex.ByteLocation](repeating: .none, count: Self.slotCount)
    }

    deinit {
        hashes.deallocate()
        lengths.deallocate()
        keys.deallocate()
    }

    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var i = 0
        let raw = UnsafeRawPointer(key.baseAddress!)
        while i + 8 <= key.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            i += 8
        }
        while i < key.count {
            hash = (hash ^ UInt64(key[i])) &* 0x94D0_49BB_1331_11EB
            i += 1
        }
        return hash ^ (hash >> 31)
    }

    /// Where the paths below `parent` lie, if it is remembered.
    func location(below parent: UnsafeBufferPointer<UInt8>) -> DirectoryIndex.ByteLocation? {
        guard parent.count > 0, parent.count <= Self.slotBytes else { return nil }
        let hash = Self.hash(parent)
        let slot = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        guard hashes[slot] == hash, Int(lengths[slot]) == parent.count,
            memcmp(keys.baseAddress! + slot * Self.slotBytes, parent.baseAddress!, parent.count) == 0
        else { return nil }
        return locations[slot]
    }

    /// Remembers where the paths below `parent` lie.
    func remember(_ location: DirectoryIndex.ByteLocation, below parent: UnsafeBufferPointer<UInt8>) {
        guard parent.count > 0, parent.count <= Self.slotBytes else { return }
        let hash = Self.hash(parent)
        let slot = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        hashes[slot] = hash
        lengths[slot] = Int32(parent.count)
        (keys.baseAddress! + slot * Self.slotBytes).update(from: parent.baseAddress!, count: parent.count)
        locations[slot] = location
    }
}
