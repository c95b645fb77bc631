import PolicyDiagnostics

/// Which ACM VM label each domain runs with, for the replay's admission control (`replay --labels
/// FILE`, `--label DOMID=LABEL`): a host has many domains, and their labels come from the toolstack
/// (`xm list --label` on an ACM host), not from the trace.
public enum LabelAssignments {
    /// A labels file larger than this is not a list of a host's domains.
    public static let maximumFileSize = 16 << 20

    /// Reads `path`: one domain a line, `DOMID=LABEL` or `DOMID LABEL` (the label is the rest of the
    /// line, without the blanks around it); blank lines and lines starting with `#` are skipped. A later line for the same domain replaces an earlier one.
    /// Every malformed line gets an error `E0991` at its position; nothing is returned then.
    /// `sources` holds the file for the diagnostics' excerpts.
    public static func read(_ path: String) -> (labels: [Int: String], diagnostics: [Diagnostic], sources: SourceLines) {
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, limit: maximumFileSize)
        } catch {
            return ([:], [InputFile.diagnostic(for: error, path: path)], SourceLines())
        }
        let (labels, diagnostics) = parse(bytes, file: path)
        var sources = SourceLines()
        if !diagnostics.isEmpty { sources.add(file: path, contents: bytes) }
        return (labels, diagnostics, sources)
    }

    /// Parses the bytes of a labels file (see `read(_:)`).
    public static func parse(_ bytes: [UInt8], file: String) -> (labels: [Int: String], diagnostics: [Diagnostic]) {
        var labels: [Int: String] = [:]
        var diagnostics: [Diagnostic] = []
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func error(_ message: String, column: Int) {
                diagnostics.append(
                    .error(
                        "E0991", message, at: SourceLocation(file: file, line: number, column: column),
                        hint: "write one domain a line: DOMID=LABEL or DOMID LABEL, such as 5=green"))
            }
            // Columns count bytes from 1, as every diagnostic of the tools does.
            let text = Array(line.last == 0x0D ? line.dropLast() : line)
            guard let first = text.firstIndex(where: { !isBlank($0) }), text[first] != UInt8(ascii: "#") else { continue }
            var position = first
            var domid = 0
            while position < text.count, text[position] &- UInt8(ascii: "0") < 10, domid < 65_536 {
                domid = domid * 10 + Int(text[position] &- UInt8(ascii: "0"))
                position += 1
            }
            guard position > first, domid < 65_536 else {
                error("expected a domain number from 0 to 65535", column: first + 1)
                continue
            }
            let separator = position
            if position < text.count, text[position] == UInt8(ascii: "=") {
                position += 1
            } else {
                while position < text.count, isBlank(text[position]) { position += 1 }
            }
            guard position > separator, position < text.count, !isBlank(text[position]) else {
                error("expected '=' or a space and a label after domain \(domid)", column: position + 1)
                continue
            }
            var end = text.count
            while end > position, isBlank(text[end - 1]) { end -= 1 }
            // The rest of the line: policies may name labels with spaces (lint warns about them).
            guard let label = String(validating: text[position..<end], as: UTF8.self),
                !label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else {
                error("the label of domain \(domid) must be UTF-8 text without control characters", column: position + 1)
                continue
            }
            labels[domid] = label
        }
        return diagnostics.isEmpty ? (labels, []) : ([:], diagnostics)
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
