#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A line of the trace without its terminator: a view into the reader's buffer, valid only while the
/// line is being parsed. Parsers scan it by byte offsets and make `String`s only of the fields they keep.
typealias LineBytes = UnsafeBufferPointer<UInt8>

/// Byte-level scanning helpers shared by the three parsers. Offsets are 0-based; columns in
/// diagnostics are offset + 1.
enum Scan {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// The first offset at or after `index` that is not a space or tab.
    @inline(__always)
    static func skipBlanks(_ line: LineBytes, from index: Int) -> Int {
        var i = index
        while i < line.count, line[i] == space || line[i] == tab { i += 1 }
        return i
    }

    /// The first offset at or after `index` that is a space or tab (or the end).
    @inline(__always)
    static func tokenEnd(_ line: LineBytes, from index: Int) -> Int {
        var i = index
        while i < line.count, line[i] != space, line[i] != tab { i += 1 }
        return i
    }

    /// The first offset at or after `index` holding `byte` (or the end).
    @inline(__always)
    static func find(_ byte: UInt8, in line: LineBytes, from index: Int) -> Int {
        var i = index
        while i < line.count, line[i] != byte { i += 1 }
        return i
    }

    /// The first offset in `range` holding `byte` (or its end), found with `memchr`: paths and
    /// values are long enough for it to beat a loop.
    @inline(__always)
    static func first(_ byte: UInt8, in line: LineBytes, _ range: Range<Int>) -> Int {
        guard !range.isEmpty, let base = line.baseAddress else { return range.upperBound }
        guard let found = memchr(base + range.lowerBound, Int32(byte), range.count) else { return range.upperBound }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// The non-negative decimal number in `range`, or `nil` if it is empty, has a non-digit or more
    /// than 18 digits.
    @inline(__always)
    static func decimal(_ line: LineBytes, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for i in range {
            let digit = line[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The hexadecimal number in `range` (no prefix), or `nil`.
    static func hexadecimal(_ line: LineBytes, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 16 else { return nil }
        var value: UInt64 = 0
        for i in range {
            let byte = line[i]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// Exactly `count` decimal digits at `index`, or `nil`.
    @inline(__always)
    static func digits(_ line: LineBytes, at index: Int, count: Int) -> Int? {
        guard index >= 0, index + count <= line.count else { return nil }
        return decimal(line, index..<(index + count))
    }

    /// Whether the bytes in `range` spell `text` (ASCII).
    @inline(__always)
    static func equals(_ line: LineBytes, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount, range.upperBound <= line.count else { return false }
        let pointer = text.utf8Start
        for (k, i) in range.enumerated() where line[i] != pointer[k] { return false }
        return true
    }

    /// Whether the line starts with `text` at `index`.
    @inline(__always)
    static func hasPrefix(_ line: LineBytes, _ text: StaticString, at index: Int = 0) -> Bool {
        let end = index + text.utf8CodeUnitCount
        return end <= line.count && equals(line, index..<end, text)
    }

    /// The bytes in `range` as a string (invalid UTF-8 is repaired with U+FFFD).
    @inline(__always)
    static func string(_ line: LineBytes, _ range: Range<Int>) -> String {
        String(decoding: LineBytes(rebasing: line[range]), as: UTF8.self)
    }

    /// A short, printable excerpt of `range` for messages.
    static func excerpt(_ line: LineBytes, _ range: Range<Int>) -> String {
        let clipped = range.lowerBound..<min(range.upperBound, range.lowerBound + 40)
        var text = string(line, clipped)
        if clipped.upperBound < range.upperBound { text += "..." }
        return text
    }
}

/// Civil dates to Unix time, without Foundation (and without the reader's time zone).
enum CivilTime {
    /// Milliseconds since 1970-01-01T00:00:00Z of the given UTC date and time, or `nil` if a field is
    /// out of range (months 1-12, the month's days, hours 0-23, minutes and seconds 0-59).
    static func epochMilliseconds(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0
    ) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second), (0..<1000).contains(millisecond)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1000 + Int64(millisecond)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `2026-11-27T10:00:00.000Z`.
    static func rfc3339(milliseconds: Int64) -> String {
        let (dayNumber, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let days = Int(millisecondOfDay < 0 ? dayNumber - 1 : dayNumber)
        let rest = Int(millisecondOfDay < 0 ? millisecondOfDay + 86_400_000 : millisecondOfDay)
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):"
            + "\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))Z"
    }

    /// The proleptic Gregorian date of a day number since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
