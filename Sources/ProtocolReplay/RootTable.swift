import CPrefetch

/// The live directories by `RootKey`, asked for by nearly every message: open addressing with
/// linear probing in one buffer of 64-byte slots aligned to cache lines, so that a lookup usually
/// reads a single line, and the hash is one multiply-xor mix (`RootKey._rawHashValue`) without the
/// `Dictionary`'s generic probing. At most half full; removal shifts the entries after the removed
/// one back, so that there are no tombstones.
final class RootTable {
    private struct Slot {
        var key: RootKey
        /// `nil`: a free slot.
        var value: ReplayEngine.LiveDirectory?
        /// Makes a slot 64 bytes, one cache line.
        var padding: Int64 = 0

        var used: Bool { value != nil }
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    /// The number of entries.
    private(set) var count = 0
    /// Changes whenever an entry is added, changed or removed: a lookup made earlier still holds
    /// while it is the same (`ReplayEngine.liveDirectory(_:)`).
    private(set) var generation = 0

    init() {
        (slots, mask) = Self.allocate(capacity: 64)
    }

    deinit {
        // The values are plain data (`LiveDirectory` does not count its reference): nothing to destroy.
        UnsafeMutableRawPointer(slots).deallocate()
    }

    private static func allocate(capacity: Int) -> (UnsafeMutablePointer<Slot>, Int) {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: capacity * MemoryLayout<Slot>.stride, alignment: max(64, MemoryLayout<Slot>.alignment))
        let slots = raw.bindMemory(to: Slot.self, capacity: capacity)
        for index in 0..<capacity {
            (slots + index).initialize(to: Slot(key: RootKey(template: -1), value: nil))
        }
        return (slots, capacity - 1)
    }

    @inline(__always)
    private func home(_ key: RootKey) -> Int {
        key._rawHashValue(seed: 0) & mask
    }

    /// Asks the processor for the slot where a lookup of `key` starts.
    func prefetch(_ key: RootKey) {
        xp_prefetch(slots + home(key))
    }

    subscript(key: RootKey) -> ReplayEngine.LiveDirectory? {
        get {
            var index = home(key)
            while slots[index].used {
                if slots[index].key == key { return slots[index].value }
                index = (index &+ 1) & mask
            }
            return nil
        }
        set {
            if let newValue {
                insert(key, newValue)
            } else {
                remove(key)
            }
        }
    }

    /// Every entry's value, in no particular order.
    var values: [ReplayEngine.LiveDirectory] {
        var result: [ReplayEngine.LiveDirectory] = []
        result.reserveCapacity(count)
        for index in 0...mask { if let value = slots[index].value { result.append(value) } }
        return result
    }

    private func insert(_ key: RootKey, _ value: ReplayEngine.LiveDirectory) {
        var index = home(key)
        while slots[index].used {
            if slots[index].key == key {
                slots[index].value = value
                generation &+= 1
                return
            }
            index = (index &+ 1) & mask
        }
        generation &+= 1
        slots[index] = Slot(key: key, value: value)
        count += 1
        if count * 2 > mask + 1 { grow() }
    }

    private func remove(_ key: RootKey) {
        var index = home(key)
        while slots[index].used {
            if slots[index].key == key { break }
            index = (index &+ 1) & mask
        }
        guard slots[index].used else { return }
        generation &+= 1
        slots[index].value = nil
        count -= 1
        // Shift back the entries of the run after the hole that may not stay behind it: an entry
        // whose home lies cyclically in (hole, position] can stay; any other moves into the hole.
        var hole = index
        var position = (index &+ 1) & mask
        while slots[position].used {
            let wanted = home(slots[position].key)
            let stays = hole <= position ? (hole < wanted && wanted <= position) : (hole < wanted || wanted <= position)
            if !stays {
                slots[hole] = slots[position]
                slots[position].value = nil
                hole = position
            }
            position = (position &+ 1) & mask
        }
    }

    private func grow() {
        let old = slots
        let oldCapacity = mask + 1
        (slots, mask) = Self.allocate(capacity: oldCapacity * 2)
        count = 0
        for index in 0..<oldCapacity { if let value = old[index].value { insert(old[index].key, value) } }
        UnsafeMutableRawPointer(old).deallocate()
    }
}
