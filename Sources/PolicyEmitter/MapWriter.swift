/// Writes a `LabelMap` in the exact layout of the tool that made its dialect (spec §4).
public enum MapWriter {
    /// The text of the map file.
    public static func render(_ map: LabelMap) -> String {
        String(decoding: bytes(map), as: UTF8.self)
    }

    /// The bytes of the map file (UTF-8). A 10,000-label map has some 40,000 lines, so it is built
    /// as bytes: from interpolated strings it cost several times as much.
    public static func bytes(_ map: LabelMap) -> [UInt8] {
        var out = MapText()
        switch map.dialect {
        case .g1, .secpol: secpol(map, &out)
        case .xend: xend(map, &out)
        }
        return out.bytes
    }

    private static func secpol(_ map: LabelMap, _ out: inout MapText) {
        if map.dialect == .g1 {
            out.field("MAGIC", hex8: 0x0001_debc)
            out.field("POLICY", map.policyFile)
            out.field("BINARY", map.binaryFile)
        } else {
            out.field("POLICYREFERENCENAME", map.policyName ?? "")
            out.field("MAGIC", hex8: 0x0001_debc)
            out.field("POLICY FILE", map.policyFile)
            out.field("BINARY FILE", map.binaryFile)
        }
        for (name, component) in [("CHWALL", map.chineseWall), ("STE", map.ste)] {
            guard let component else { continue }
            out.field("MAX-\(name)-TYPES", hex8: component.maxTypes)
            out.field("MAX-\(name)-SSIDS", hex8: component.maxSsids)
            out.field("MAX-\(name)-LABELS", hex8: component.maxLabels)
        }
        out.newline()
        out.field("PRIMARY", map.primary)
        out.field("SECONDARY", map.secondary)
        out.newline()
        let components = [("CHWALL", map.chineseWall), ("STE   ", map.ste)]
        for (name, component) in components {
            guard let component else { continue }
            for entry in component.entries {
                out.text("LABEL->SSID ")
                out.text(entry.kind, width: 3)
                out.text(" \(name) ")
                out.text(entry.name, width: 25)
                out.space()
                out.hex(entry.ssid, rightAlignedIn: 8)
                out.newline()
            }
            out.newline()
        }
        ssidTypeLines(components, &out)
        for (name, component) in components {
            guard let component else { continue }
            for type in component.types {
                out.text("TYPE \(name)            ")
                out.text(type.name, width: 25)
                out.space()
                out.hex(type.index, rightAlignedIn: 8)
                out.newline()
            }
            out.newline()
        }
    }

    private static func xend(_ map: LabelMap, _ out: inout MapText) {
        out.field("POLICYREFERENCENAME", map.policyName ?? "")
        out.field("MAGIC", hex8: 0x0001_debc)
        out.field("POLICFILE", map.policyFile)
        out.field("BINARYFILE", map.binaryFile)
        let chineseWall = map.chineseWall
        let ste = map.ste
        out.field("MAX-CHWALL-TYPES", hex8: chineseWall?.maxTypes ?? 0)
        out.field("MAX-CHWALL-SSIDS", hex8: chineseWall?.maxSsids ?? 0)
        out.field("MAX-CHWALL-LABELS", hex8: chineseWall?.maxLabels ?? 0)
        out.field("MAX-STE-TYPES", hex8: ste?.maxTypes ?? 0)
        out.field("MAX-STE-SSIDS", hex8: ste?.maxSsids ?? 0)
        out.field("MAX-STE-LABELS", hex8: ste?.maxLabels ?? 0)
        out.newline()
        if map.primary != "NULL" { out.field("PRIMARY", map.primary) }
        if map.secondary == "NULL" {
            // acmpolicy.py wrote this one line with 13 spaces.
            out.text("SECONDARY             NULL\n")
        } else {
            out.field("SECONDARY", map.secondary)
        }
        out.newline()
        if let chineseWall, chineseWall.entries.count > 1 {
            for entry in chineseWall.entries {
                out.text("LABEL->SSID ")
                out.text(entry.kind, width: 3)
                out.text(" CHWALL ")
                out.text(entry.name, width: 20)
                out.space()
                out.hex(entry.ssid)
                out.newline()
            }
            out.newline()
        }
        if let ste, ste.entries.count > 1 {
            for entry in ste.entries {
                out.text("LABEL->SSID ")
                out.text(entry.kind, width: 3)
                out.text(" STE    ")
                out.text(entry.name, width: 20)
                out.space()
                if entry.kind == "ANY" { out.hex8(entry.ssid) } else { out.hex(entry.ssid) }
                out.newline()
            }
            out.newline()
        }
        let components = [("CHWALL", chineseWall), ("STE   ", ste)]
        ssidTypeLines(components, &out)
        for (name, component) in components {
            guard let component, !component.types.isEmpty else { continue }
            for type in component.types {
                out.text("TYPE \(name)            ")
                out.text(type.name, width: 20)
                out.space()
                out.decimal(type.index)
                out.newline()
            }
            out.newline()
        }
        out.newline()
    }

    /// `SSID->TYPE` lines, the same in every dialect.
    private static func ssidTypeLines(_ components: [(String, ComponentLabels?)], _ out: inout MapText) {
        for (name, component) in components {
            guard let component else { continue }
            for line in component.ssidTypes {
                out.text("SSID->TYPE \(name)      ")
                out.hex8(line.ssid)
                for type in line.types {
                    out.space()
                    out.text(type)
                }
                out.newline()
            }
            out.newline()
        }
    }
}

/// The bytes of a map file under construction, with the column layouts the historical tools used.
struct MapText {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1 << 16)
    }

    mutating func text(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// `text` left-justified in `width` columns (never cut).
    mutating func text(_ text: String, width: Int) {
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        let written = bytes.count - start
        if written < width { bytes.append(contentsOf: repeatElement(0x20, count: width - written)) }
    }

    mutating func space() { bytes.append(0x20) }

    mutating func newline() { bytes.append(0x0A) }

    /// A header line: the keyword left-justified in 22 columns, a space, the value.
    mutating func field(_ key: String, _ value: String) {
        text(key, width: 22)
        space()
        text(value)
        newline()
    }

    mutating func field(_ key: String, hex8 value: Int) {
        text(key, width: 22)
        space()
        hex8(value)
        newline()
    }

    /// Lower-case hexadecimal, as Python's `%x` and C's `%x` wrote it.
    mutating func hex(_ value: Int) {
        hex(value, minimumDigits: 1, fill: 0x30)
    }

    /// At least 8 hexadecimal digits, zero-filled (`%08x`).
    mutating func hex8(_ value: Int) {
        hex(value, minimumDigits: 8, fill: 0x30)
    }

    /// Hexadecimal right-aligned in `width` columns with spaces (`%8x`).
    mutating func hex(_ value: Int, rightAlignedIn width: Int) {
        hex(value, minimumDigits: width, fill: 0x20)
    }

    mutating func decimal(_ value: Int) {
        text(String(value))
    }

    private mutating func hex(_ value: Int, minimumDigits: Int, fill: UInt8) {
        guard value >= 0 else {
            // Not produced by any numbering; written as Swift would rather than dropped.
            text(String(value, radix: 16))
            return
        }
        var digits = 1
        while digits < 16, value >> (4 * digits) != 0 { digits += 1 }
        if digits < minimumDigits { bytes.append(contentsOf: repeatElement(fill, count: minimumDigits - digits)) }
        let alphabet: StaticString = "0123456789abcdef"
        for position in stride(from: digits - 1, through: 0, by: -1) {
            bytes.append(alphabet.utf8Start[(value >> (4 * position)) & 0xF])
        }
    }
}
