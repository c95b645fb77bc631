import PolicyDiagnostics

/// How change values and side headings read in the text and Markdown reports.
enum DiffValueFormatting {
    /// `ste {a, b}, chwall {c}`; a missing types element reads `-`.
    static func describe(_ value: PolicyChange.Value?, quote: (String) -> String = { $0 }) -> String {
        guard let value else { return "-" }
        func list(_ names: [String]?) -> String {
            guard let names else { return "-" }
            return "{" + names.map(quote).joined(separator: ", ") + "}"
        }
        switch value {
        case .text(let text): return quote(text)
        case .types(let names): return list(names)
        case .labelTypes(let ste, let chineseWall):
            var parts = ["STE \(list(ste))"]
            if let chineseWall { parts.append("Chinese Wall \(list(chineseWall))") }
            return parts.joined(separator: ", ")
        case .ssidref(let ssidref): return ssidref.map(hex) ?? "none"
        }
    }

    /// `0x00030003`.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// `name version, generation` of one side, e.g. `xm-test 1.0, xen-4.1 policy`.
    static func summary(of side: PolicyDiffReport.Side) -> String {
        if let protocols = side.protocols {
            let list = protocols.isEmpty ? "none" : protocols.joined(separator: ", ")
            return "\(side.isBlob ? "rule table" : "protocol description"): \(list)"
        }
        var parts: [String] = []
        if let name = side.policyName { parts.append(side.version.map { "\(name) \($0)" } ?? name) }
        parts.append("\(side.generation) \(side.isBlob ? "blob" : "policy")")
        return parts.joined(separator: ", ")
    }

    /// The one-line description of a change, without its category.
    static func describe(_ change: PolicyChange, quote: (String) -> String = { $0 }, arrow: String = "->") -> String {
        let name = quote(change.name)
        if change.category.isProtocol { return describeProtocol(change, quote: quote, arrow: arrow) }
        switch (change.category, change.kind) {
        case (.steType, _), (.chineseWallType, _): return name
        case (.header, .added): return "\(change.name) \(describe(change.newValue, quote: quote))"
        case (.header, .removed): return "\(change.name) \(describe(change.oldValue, quote: quote))"
        case (.header, _), (.bootstrap, _):
            return
                "\(change.category == .header ? change.name + " " : "")\(describe(change.oldValue, quote: quote)) \(arrow) \(describe(change.newValue, quote: quote))"
        case (.ssidref, _):
            let label = (change.labelKind == "RES" ? "resource " : "VM ") + name
            let renamed = change.oldName.map { " (was \(quote($0)))" } ?? ""
            return "\(label)\(renamed) \(describe(change.oldValue)) \(arrow) \(describe(change.newValue))"
        case (_, .added): return "\(name) \(describe(change.newValue, quote: quote))"
        case (_, .removed): return "\(name) \(describe(change.oldValue, quote: quote))"
        case (_, .renamed): return "\(quote(change.oldName ?? "")) \(arrow) \(name)"
        case (_, .typesChanged), (_, .changed):
            return "\(name) \(describe(change.oldValue, quote: quote)) \(arrow) \(describe(change.newValue, quote: quote))"
        }
    }

    /// `be/mode writers {toolstack} -> {frontend, toolstack}`; values are left out where the
    /// change has none (compiled expressions that differ).
    static func describeProtocol(_ change: PolicyChange, quote: (String) -> String, arrow: String) -> String {
        var text = quote(change.name)
        switch change.kind {
        case .added: if change.newValue != nil { text += " " + describe(change.newValue, quote: quote) }
        case .removed: if change.oldValue != nil { text += " " + describe(change.oldValue, quote: quote) }
        case .renamed, .typesChanged, .changed:
            if let attribute = change.attribute { text += " " + attribute }
            if change.oldValue == nil && change.newValue == nil {
                text += " changed"
            } else {
                text += " \(describe(change.oldValue, quote: quote)) \(arrow) \(describe(change.newValue, quote: quote))"
            }
        }
        return text
    }

    /// `+`, `-`, `>`, `~`.
    static func marker(_ kind: PolicyChange.Kind) -> String {
        switch kind {
        case .added: "+"
        case .removed: "-"
        case .renamed: ">"
        case .typesChanged, .changed: "~"
        }
    }
}
