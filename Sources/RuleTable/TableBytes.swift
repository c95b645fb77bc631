/// Appends little-endian fixed-width integers and canonical (shortest) LEB128 numbers.
struct TableWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// An index, count or other non-negative number.
    mutating func uleb(_ value: Int) {
        precondition(value >= 0, "rule tables encode indices and counts of checked definitions; got \(value)")
        uleb(UInt64(value))
    }

    mutating func uleb(_ value: UInt64) {
        var rest = value
        repeat {
            let low = UInt8(truncatingIfNeeded: rest & 0x7F)
            rest >>= 7
            bytes.append(rest == 0 ? low : low | 0x80)
        } while rest != 0
    }

    mutating func sleb(_ value: Int) { sleb(Int128(value)) }

    mutating func sleb(_ value: Int128) {
        var rest = value
        while true {
            let low = UInt8(truncatingIfNeeded: rest) & 0x7F
            rest >>= 7
            if (rest == 0 && low & 0x40 == 0) || (rest == -1 && low & 0x40 != 0) {
                bytes.append(low)
                return
            }
            bytes.append(low | 0x80)
        }
    }

    mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }
}

/// Why decoding stopped: a diagnostic code and message, thrown by `TableReader` on bytes it cannot parse.
struct DecodeFailure: Error {
    var code: String
    var message: String
}

/// Reads one section: bounds-checked, every number canonical, every count checked against the
/// bytes left before anything is allocated for it.
struct TableReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    let section: String

    init(bytes: [UInt8], start: Int, end: Int, section: String) {
        self.bytes = bytes
        self.position = start
        self.end = end
        self.section = section
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position == end }

    func failure(_ code: String, _ message: String, at offset: Int? = nil) -> DecodeFailure {
        DecodeFailure(code: code, message: "\(section) section, byte \(offset ?? position): \(message)")
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt8 {
        guard position < end else { throw failure("E0877", "the section ends in the middle of \(what())") }
        defer { position += 1 }
        return bytes[position]
    }

    /// A non-negative number that fits in `Int` (at most 63 bits, so at most 9 bytes).
    mutating func uleb(_ what: @autoclosure () -> String) throws(DecodeFailure) -> Int {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8(what())
            let payload = UInt64(byte & 0x7F)
            // The ninth byte holds bits 56-62; a tenth would go past what `Int` holds.
            if shift == 56, byte & 0x80 != 0 {
                throw failure("E0878", "\(what()) is too large (more than 63 bits)", at: start)
            }
            result |= payload << shift
            if byte & 0x80 == 0 {
                if byte == 0, position - start > 1 {
                    throw failure("E0878", "\(what()) is not in shortest LEB128 form", at: start)
                }
                return Int(result)
            }
            shift += 7
        }
    }

    /// A number that must fit in 32 bits (masks).
    mutating func uleb32(_ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt32 {
        let start = position
        let value = try uleb(what())
        guard let narrow = UInt32(exactly: value) else {
            throw failure("E0878", "\(what()) \(value) does not fit in 32 bits", at: start)
        }
        return narrow
    }

    /// A signed 128-bit number: at most 19 bytes, shortest form.
    mutating func sleb128(_ what: @autoclosure () -> String) throws(DecodeFailure) -> Int128 {
        let start = position
        var result: UInt128 = 0
        var shift = 0
        var previous: UInt8 = 0
        while true {
            let byte = try u8(what())
            let payload = UInt128(byte & 0x7F)
            if shift == 126 {
                // The 19th byte holds bits 126 and 127; its other five bits must copy bit 127 (the sign).
                let upper = (byte & 0x7F) >> 2
                let sign = (byte >> 1) & 1
                guard byte & 0x80 == 0, upper == (sign == 1 ? 0x1F : 0) else {
                    throw failure("E0878", "\(what()) does not fit in 128 bits", at: start)
                }
                result |= (payload & 3) << 126
            } else {
                result |= payload << UInt128(shift)
            }
            shift += 7
            if byte & 0x80 == 0 {
                if position - start > 1, (byte == 0 && previous & 0x40 == 0) || (byte == 0x7F && previous & 0x40 != 0) {
                    throw failure("E0878", "\(what()) is not in shortest LEB128 form", at: start)
                }
                if shift < 128, byte & 0x40 != 0 { result |= UInt128.max << UInt128(shift) }
                return Int128(bitPattern: result)
            }
            previous = byte
        }
    }

    /// A signed number that fits in `Int`.
    mutating func sleb(_ what: @autoclosure () -> String) throws(DecodeFailure) -> Int {
        let start = position
        let value = try sleb128(what())
        guard let narrow = Int(exactly: value) else { throw failure("E0878", "\(what()) \(value) does not fit in 64 bits", at: start) }
        return narrow
    }

    /// A count of items that each take at least `minimumSize` bytes: refused when the bytes left
    /// cannot hold that many, before anything is allocated.
    mutating func count(_ what: @autoclosure () -> String, minimumSize: Int) throws(DecodeFailure) -> Int {
        let start = position
        let value = try uleb("the number of \(what())")
        guard value <= remaining / max(1, minimumSize) else {
            throw failure(
                "E0879", "\(value) \(what()) cannot fit in the \(remaining) bytes left of the section (each takes at least \(minimumSize))",
                at: start)
        }
        return value
    }

    /// `count` raw bytes.
    mutating func raw(_ count: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw failure("E0877", "\(what()) needs \(count) bytes but the section has \(remaining) left")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }
}
