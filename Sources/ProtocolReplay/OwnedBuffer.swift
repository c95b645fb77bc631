import CPrefetch

/// A fixed number of values in memory that their owner (an `Instance`, a `DirectoryState`) frees in
/// its `deinit`. Not an array: making an array of a value type looks its generic metadata up at run
/// time (about 700 instructions, and a directory is made every few dozen messages), destroying one
/// goes through generic witnesses, and each write checks that it is unique. Unlike a bare
/// `UnsafeMutableBufferPointer`, whose bounds are checked only in debug builds, every access is
/// checked here: the indices come from rule tables and traces, and a wrong one must stop the replay,
/// not write past the buffer.
struct OwnedBuffer<Element>: RandomAccessCollection, MutableCollection {
    private let base: UnsafeMutablePointer<Element>
    let count: Int

    /// `count` copies of `value`.
    init(repeating value: Element, count: Int) {
        self.init(uninitialized: count)
        // One by one, in code specialised for `Element`: the standard library's
        // `initialize(repeating:count:)` copies through the generic witnesses.
        for index in 0..<self.count { (base + index).initialize(to: value) }
    }

    private init(uninitialized count: Int) {
        self.count = Swift.max(0, count)
        base = .allocate(capacity: self.count)
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }
    var indices: Range<Int> { 0..<count }

    subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < count, "index out of the buffer")
            return base[position]
        }
        nonmutating set {
            precondition(position >= 0 && position < count, "index out of the buffer")
            base[position] = newValue
        }
    }

    /// Puts `value` at `position` and returns the value that was there, moving both: no copy of
    /// either is made (and no reference in them counted).
    func exchange(_ position: Int, with value: consuming Element) -> Element {
        precondition(position >= 0 && position < count, "index out of the buffer")
        let old = (base + position).move()
        (base + position).initialize(to: value)
        return old
    }

    /// Prefetches the cache lines of the value at `position` (nothing when it is out of the buffer):
    /// its first and its last byte, since a value may straddle two lines.
    func prefetch(_ position: Int) {
        guard position >= 0 && position < count else { return }
        xp_prefetch(base + position)
        xp_prefetch(UnsafeRawPointer(base + position) + (MemoryLayout<Element>.size - 1))
    }

    /// Prefetches every cache line of the buffer's first `limit` values (all by default).
    func prefetchAll(upTo limit: Int = .max) {
        let bytes = Swift.min(count, limit) &* MemoryLayout<Element>.stride
        guard bytes > 0 else { return }
        let start = UnsafeRawPointer(base)
        var offset = 0
        while offset < bytes {
            xp_prefetch(start + offset)
            offset &+= 64
        }
        xp_prefetch(start + (bytes &- 1))
    }

    /// Destroys the values and frees the memory; the owner calls it once, from its `deinit`. The
    /// values are moved out one by one, so that code specialised for `Element` destroys them
    /// (`deinitialize` would go through the generic witnesses).
    func free() {
        for index in 0..<count { _ = (base + index).move() }
        base.deallocate()
    }
}

extension OwnedBuffer where Element: ExpressibleByNilLiteral {
    /// `count` empty slots, each made from the literal: copying a `nil` of a type that holds strings
    /// goes through `Optional`'s generic witness, once per slot.
    init(emptySlots count: Int) {
        self.init(uninitialized: count)
        for index in 0..<self.count { (base + index).initialize(to: nil) }
    }
}
