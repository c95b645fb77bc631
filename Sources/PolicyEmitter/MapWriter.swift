/// Writes a `LabelMap` in the exact layout of the tool that made its dialect (spec §4).
public enum MapWriter {
    /// The text of the map file.
    public static func render(_ map: LabelMap) -> String {
        switch map.dialect {
        case .g1, .secpol: secpol(map)
        case .xend: xend(map)
        }
    }

    private static func secpol(_ map: LabelMap) -> String {
        var out = ""
        if map.dialect == .g1 {
            out += field("MAGIC", hex8(0x0001_debc))
            out += field("POLICY", map.policyFile)
            out += field("BINARY", map.binaryFile)
        } else {
            out += field("POLICYREFERENCENAME", map.policyName ?? "")
            out += field("MAGIC", hex8(0x0001_debc))
            out += field("POLICY FILE", map.policyFile)
            out += field("BINARY FILE", map.binaryFile)
        }
        for (name, component) in [("CHWALL", map.chineseWall), ("STE", map.ste)] {
            guard let component else { continue }
            out += field("MAX-\(name)-TYPES", hex8(component.maxTypes))
            out += field("MAX-\(name)-SSIDS", hex8(component.maxSsids))
            out += field("MAX-\(name)-LABELS", hex8(component.maxLabels))
        }
        out += "\n"
        out += field("PRIMARY", map.primary)
        out += field("SECONDARY", map.secondary)
        out += "\n"
        let components = [("CHWALL", map.chineseWall), ("STE   ", map.ste)]
        for (name, component) in components {
            guard let component else { continue }
            for entry in component.entries {
                out += "LABEL->SSID \(pad(entry.kind, 3)) \(name) \(pad(entry.name, 25)) \(leftPad(hex(entry.ssid), 8))\n"
            }
            out += "\n"
        }
        for (name, component) in components {
            guard let component else { continue }
            for line in component.ssidTypes {
                out += "SSID->TYPE \(name)      \(hex8(line.ssid))" + line.types.map { " " + $0 }.joined() + "\n"
            }
            out += "\n"
        }
        for (name, component) in components {
            guard let component else { continue }
            for type in component.types {
                out += "TYPE \(name)            \(pad(type.name, 25)) \(leftPad(hex(type.index), 8))\n"
            }
            out += "\n"
        }
        return out
    }

    private static func xend(_ map: LabelMap) -> String {
        var out = ""
        out += field("POLICYREFERENCENAME", map.policyName ?? "")
        out += field("MAGIC", hex8(0x0001_debc))
        out += field("POLICFILE", map.policyFile)
        out += field("BINARYFILE", map.binaryFile)
        let chineseWall = map.chineseWall
        let ste = map.ste
        out += field("MAX-CHWALL-TYPES", hex8(chineseWall?.maxTypes ?? 0))
        out += field("MAX-CHWALL-SSIDS", hex8(chineseWall?.maxSsids ?? 0))
        out += field("MAX-CHWALL-LABELS", hex8(chineseWall?.maxLabels ?? 0))
        out += field("MAX-STE-TYPES", hex8(ste?.maxTypes ?? 0))
        out += field("MAX-STE-SSIDS", hex8(ste?.maxSsids ?? 0))
        out += field("MAX-STE-LABELS", hex8(ste?.maxLabels ?? 0))
        out += "\n"
        if map.primary != "NULL" { out += field("PRIMARY", map.primary) }
        // acmpolicy.py wrote this one line with 13 spaces.
        out += map.secondary == "NULL" ? "SECONDARY             NULL\n" : field("SECONDARY", map.secondary)
        out += "\n"
        if let chineseWall, chineseWall.entries.count > 1 {
            for entry in chineseWall.entries {
                out += "LABEL->SSID \(pad(entry.kind, 3)) CHWALL \(pad(entry.name, 20)) \(hex(entry.ssid))\n"
            }
            out += "\n"
        }
        if let ste, ste.entries.count > 1 {
            for entry in ste.entries {
                let value = entry.kind == "ANY" ? hex8(entry.ssid) : hex(entry.ssid)
                out += "LABEL->SSID \(pad(entry.kind, 3)) STE    \(pad(entry.name, 20)) \(value)\n"
            }
            out += "\n"
        }
        for (name, component) in [("CHWALL", chineseWall), ("STE   ", ste)] {
            guard let component else { continue }
            for line in component.ssidTypes {
                out += "SSID->TYPE \(name)      \(hex8(line.ssid))" + line.types.map { " " + $0 }.joined() + "\n"
            }
            out += "\n"
        }
        for (name, component) in [("CHWALL", chineseWall), ("STE   ", ste)] {
            guard let component, !component.types.isEmpty else { continue }
            for type in component.types {
                out += "TYPE \(name)            \(pad(type.name, 20)) \(type.index)\n"
            }
            out += "\n"
        }
        out += "\n"
        return out
    }

    /// A header line: the keyword left-justified in 23 columns, then the value.
    private static func field(_ key: String, _ value: String) -> String {
        "\(pad(key, 22)) \(value)\n"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        let count = text.utf8.count
        return count >= width ? text : text + String(repeating: " ", count: width - count)
    }

    static func leftPad(_ text: String, _ width: Int) -> String {
        let count = text.utf8.count
        return count >= width ? text : String(repeating: " ", count: width - count) + text
    }

    static func hex(_ value: Int) -> String { String(value, radix: 16) }

    static func hex8(_ value: Int) -> String { leftPad(hex(value), 8).replacingSpaces(with: "0") }
}

extension String {
    fileprivate func replacingSpaces(with character: Character) -> String {
        String(map { $0 == " " ? character : $0 })
    }
}
