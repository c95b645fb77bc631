/// The trace formats the reader understands (`docs/traces.md`).
public enum TraceFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// oxenstored's access log (`/var/log/xen/xenstored-access.log`):
    /// `[20261127T10:00:00.000Z]  D5           write     /local/domain/5/device/vbd/768/state 4`.
    case oxenstored
    /// cxenstored's trace (`xenstored -T FILE`):
    /// `io: IN 0x55d1c2a0 (d5) 20261127 10:00:00 WRITE (/local/domain/5/device/vbd/768/state 4 )`.
    case cxenstored
    /// Our JSON-lines format: one object per line,
    /// `{"time": "2026-11-27T10:00:00.000Z", "domid": 5, "op": "write", "path": "...", "value": "4"}`.
    case jsonLines = "json"

    public var description: String { rawValue }

    /// The format of a trace whose first non-empty line is `line`, or `nil` if it is in none of them.
    ///
    /// `{` starts a JSON line; `[` and a digit an oxenstored access log line; `io: ` (or another kind of
    /// cxenstored trace line: `obj: `, `wrl: `, `acc: `, `tdb: `, `CREATE `, `DESTROY `, `CONN `, or
    /// `IN `/`OUT` of traces older than the `io: ` prefix) a cxenstored trace.
    public static func detect(firstLine line: some Collection<UInt8>) -> TraceFormat? {
        Array(line).withUnsafeBufferPointer { detect($0) }
    }

    static func detect(_ line: LineBytes) -> TraceFormat? {
        let start = Scan.skipBlanks(line, from: 0)
        guard start < line.count else { return nil }
        switch line[start] {
        case UInt8(ascii: "{"):
            return .jsonLines
        case UInt8(ascii: "["):
            return start + 1 < line.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[start + 1]) ? .oxenstored : nil
        default:
            return CxenstoredTraceParser.isTraceLine(line, from: start) ? .cxenstored : nil
        }
    }
}
