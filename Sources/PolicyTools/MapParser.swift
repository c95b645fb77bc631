import PolicyDiagnostics
import PolicyEmitter

/// Reads `.map` files of every dialect back into a `LabelMap`.
///
/// Names may contain spaces in Xen 3.0.2 maps (`res_HardDrive (hda)`), so a label or type name is
/// everything between the fixed-width prefix and the last field, not one whitespace-separated field.
public enum MapParser {
    /// Parses `text`, read from `file` (named in diagnostics).
    public static func parse(_ text: String, file: String) -> (LabelMap?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var dialect: LabelMap.Dialect? = nil
        var policyName: String? = nil
        var primary = "NULL"
        var secondary = "NULL"
        var policyFile = ""
        var binaryFile = ""
        var builders: [String: Builder] = [:]

        func error(_ line: Int, _ message: String) {
            diagnostics.append(.error("E0501", message, at: SourceLocation(file: file, line: line, column: 1)))
        }

        for (index, line) in lines.enumerated() {
            let number = index + 1
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = fields.first else { continue }
            switch keyword {
            case "POLICYREFERENCENAME":
                policyName = fields.count > 1 ? fields[1] : ""
                dialect = dialect ?? .secpol
            case "MAGIC":
                if fields.count < 2 || fields[1] != "0001debc" { error(number, "MAGIC is not 0001debc") }
            case "POLICY":
                if fields.count > 1, fields[1] == "FILE" {
                    policyFile = fields.dropFirst(2).joined(separator: " ")
                } else {
                    policyFile = fields.dropFirst().joined(separator: " ")
                    dialect = .g1
                }
            case "BINARY":
                binaryFile = (fields.count > 1 && fields[1] == "FILE" ? fields.dropFirst(2) : fields.dropFirst()).joined(separator: " ")
            case "POLICFILE":
                policyFile = fields.dropFirst().joined(separator: " ")
                dialect = .xend
            case "BINARYFILE":
                binaryFile = fields.dropFirst().joined(separator: " ")
            case "PRIMARY":
                primary = fields.count > 1 ? fields[1] : ""
            case "SECONDARY":
                secondary = fields.count > 1 ? fields[1] : ""
            case _ where keyword.hasPrefix("MAX-"):
                let parts = keyword.split(separator: "-")
                guard parts.count == 3, fields.count == 2, let value = unsignedNumber(fields[1], radix: 16) else {
                    error(number, "malformed line '\(line)'")
                    continue
                }
                let component = String(parts[1])
                var builder = builders[component] ?? Builder()
                switch parts[2] {
                case "TYPES": builder.maxTypes = value
                case "SSIDS": builder.maxSsids = value
                case "LABELS": builder.maxLabels = value
                default: error(number, "unknown line '\(keyword)'")
                }
                builders[component] = builder
            case "LABEL->SSID":
                guard fields.count >= 5, let ssid = unsignedNumber(fields[fields.count - 1], radix: 16),
                    let name = nameBetweenPrefix(of: line, prefixFields: 3, lastFieldCount: 1)
                else {
                    error(number, "malformed LABEL->SSID line '\(line)'")
                    continue
                }
                builders[fields[2], default: Builder()].entries.append(.init(kind: fields[1], name: name, ssid: ssid))
            case "SSID->TYPE":
                guard fields.count >= 3, let ssid = unsignedNumber(fields[2], radix: 16) else {
                    error(number, "malformed SSID->TYPE line '\(line)'")
                    continue
                }
                builders[fields[1], default: Builder()].ssidTypes.append(.init(ssid: ssid, types: Array(fields.dropFirst(3))))
            case "TYPE":
                let radix = dialect == .xend ? 10 : 16
                guard fields.count >= 4, let value = unsignedNumber(fields[fields.count - 1], radix: radix),
                    let name = nameBetweenPrefix(of: line, prefixFields: 2, lastFieldCount: 1)
                else {
                    error(number, "malformed TYPE line '\(line)'")
                    continue
                }
                builders[fields[1], default: Builder()].types.append(.init(name: name, index: value))
            default:
                error(number, "unknown map line '\(line)'")
            }
        }
        guard let dialect else {
            diagnostics.append(
                .error("E0502", "'\(file)' is not a label map: no POLICY or POLICYREFERENCENAME line", at: SourceLocation(file: file)))
            return (nil, diagnostics)
        }
        let map = LabelMap(
            dialect: dialect, policyName: policyName, policyFile: policyFile, binaryFile: binaryFile, primary: primary,
            secondary: secondary, chineseWall: builders["CHWALL"]?.build(), ste: builders["STE"]?.build())
        return (diagnostics.isEmpty ? map : nil, diagnostics)
    }

    /// The number `field` spells in `radix`, digits only: the tools wrote no signs, and `Int(_:radix:)`
    /// would take `-1` for an ssid, which the readers then used as a matrix row.
    private static func unsignedNumber(_ field: String, radix: Int) -> Int? {
        guard let first = field.first, first != "-", first != "+" else { return nil }
        return Int(field, radix: radix)
    }

    /// The text between the first `prefixFields` fields and the last `lastFieldCount` fields, trimmed.
    private static func nameBetweenPrefix(of line: String, prefixFields: Int, lastFieldCount: Int) -> String? {
        var rest = Substring(line)
        for _ in 0..<prefixFields {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            rest = rest.drop { $0 != " " && $0 != "\t" }
        }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        for _ in 0..<lastFieldCount {
            while let last = rest.last, last == " " || last == "\t" { rest = rest.dropLast() }
            while let last = rest.last, last != " " && last != "\t" { rest = rest.dropLast() }
        }
        while let last = rest.last, last == " " || last == "\t" { rest = rest.dropLast() }
        return rest.isEmpty ? nil : String(rest)
    }

    private struct Builder {
        var maxTypes = 0
        var maxSsids = 0
        var maxLabels = 0
        var entries: [ComponentLabels.Entry] = []
        var ssidTypes: [ComponentLabels.SsidTypes] = []
        var types: [ComponentLabels.TypeEntry] = []

        func build() -> ComponentLabels {
            ComponentLabels(
                maxTypes: maxTypes, maxSsids: maxSsids, maxLabels: maxLabels, entries: entries, ssidTypes: ssidTypes, types: types)
        }
    }
}
