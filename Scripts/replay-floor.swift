// A lower bound for the replay benchmark (docs/benchmarks.md, "replay", "How far is 3x awk"):
// what it costs in Swift only to split an oxenstored access log into lines and each line into the
// fields every checker must read (time, connection, transaction, operation, path, value), with no
// judging at all. With `--intern` it also looks every path up in a hash table, the cheapest way to
// map a path to what the rules say about it. It prints the counts it found so that the work cannot
// be optimised away.
//
//     swiftc -O Scripts/replay-floor.swift -o /tmp/replay-floor
//     /usr/bin/time -f '%e s %M KiB' /tmp/replay-floor [--intern] trace.log
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts of what the lines held.
struct Tally {
    var lines = 0
    var writes = 0
    var distinctPaths = 0
    var checksum = 0
}

/// Paths seen so far, in an open-addressing table over one byte arena.
struct PathTable {
    private var hashes: [UInt64]
    private var offsets: [Int32]
    private var arena: [UInt8] = []
    private let mask: Int

    init(capacity: Int) {
        hashes = [UInt64](repeating: 0, count: capacity)
        offsets = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    /// The slot of the path, inserting it when new; `inserted` tells which.
    mutating func intern(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> (slot: Int, inserted: Bool) {
        let hash = Self.hash(bytes, count)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let offset = Int(offsets[slot])
            if offset < 0 {
                hashes[slot] = hash
                offsets[slot] = Int32(arena.count)
                arena.append(UInt8(truncatingIfNeeded: count))
                arena.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
                return (slot, true)
            }
            if hashes[slot] == hash, Int(arena[offset]) == count & 0xFF,
                arena.withUnsafeBufferPointer({ memcmp($0.baseAddress! + offset + 1, bytes, count) }) == 0
            {
                return (slot, false)
            }
            slot = (slot + 1) & mask
        }
    }

    /// Eight bytes at a time, multiply and shift: enough to spread paths that differ in a digit.
    static func hash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        var index = 0
        let raw = UnsafeRawPointer(bytes)
        while index + 8 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 29)
    }
}

/// Splits one line `[time]  CONN[.TX]  op  path [value]` and adds it to the tally.
func scan(_ line: UnsafePointer<UInt8>, _ count: Int, _ tally: inout Tally, _ table: inout PathTable?) {
    var index = 0
    func skip(_ byte: UInt8) { while index < count && line[index] == byte { index += 1 } }
    func number() -> Int {
        var value = 0
        while index < count, line[index] &- 0x30 < 10 {
            value = value &* 10 &+ Int(line[index] &- 0x30)
            index += 1
        }
        return value
    }
    // The timestamp: its digits are read, as a checker must to advance its clock.
    var time = 0
    while index < count && line[index] != UInt8(ascii: "]") {
        if line[index] &- 0x30 < 10 { time = time &* 10 &+ Int(line[index] &- 0x30) }
        index += 1
    }
    index += 1
    skip(UInt8(ascii: " "))
    guard index < count else { return }
    let kind = Int(line[index])
    index += 1
    let connection = number()
    var transaction = 0
    if index < count && line[index] == UInt8(ascii: ".") {
        index += 1
        transaction = number()
    }
    skip(UInt8(ascii: " "))
    let operation = index
    while index < count && line[index] != UInt8(ascii: " ") { index += 1 }
    if index - operation == 5 && line[operation] == UInt8(ascii: "w") { tally.writes += 1 }
    skip(UInt8(ascii: " "))
    let path = index
    let space = memchr(line + index, Int32(UInt8(ascii: " ")), count - index)
    let pathEnd = space.map { UnsafeRawPointer($0) - UnsafeRawPointer(line) } ?? count
    if var interned = table {
        table = nil  // Moved out and back: one owner, no copy of the arrays.
        let (slot, inserted) = interned.intern(line + path, pathEnd - path)
        if inserted { tally.distinctPaths += 1 }
        tally.checksum &+= slot
        table = interned
    }
    tally.checksum &+= time &+ kind &+ connection &+ transaction &+ (count - pathEnd)
}

func run() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    let intern = arguments.first == "--intern"
    if intern { arguments.removeFirst() }
    guard arguments.count == 1 else {
        print("usage: replay-floor [--intern] TRACE")
        return 2
    }
    let fd = open(arguments[0], O_RDONLY)
    guard fd >= 0 else {
        print("replay-floor: cannot open \(arguments[0])")
        return 2
    }
    defer { close(fd) }
    let capacity = 1 << 22
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    defer { buffer.deallocate() }
    var filled = 0
    var tally = Tally()
    var table: PathTable? = intern ? PathTable(capacity: 1 << 21) : nil
    while true {
        let count = read(fd, buffer + filled, capacity - filled)
        guard count > 0 else { break }
        filled += count
        var start = 0
        while start < filled, let found = memchr(buffer + start, 0x0A, filled - start) {
            let newline = UnsafeMutableRawPointer(found) - UnsafeMutableRawPointer(buffer)
            tally.lines += 1
            scan(buffer + start, newline - start, &tally, &table)
            start = newline + 1
        }
        filled -= start
        if filled > 0 { (buffer).update(from: buffer + start, count: filled) }
        if filled == capacity {
            print("replay-floor: a line longer than \(capacity) bytes")
            return 2
        }
    }
    print("\(tally.lines) lines, \(tally.writes) writes, \(tally.distinctPaths) distinct paths (checksum \(tally.checksum))")
    return 0
}

exit(run())
