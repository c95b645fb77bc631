import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// The format comes from the first non-empty line, unless it is named.
@Suite struct FormatDetectionTests {
    @Test(arguments: [
        ("[20261127T10:00:00.000Z]  D5           write     /a 1", TraceFormat.oxenstored),
        ("io: IN 0x55d1c3f0 (d5) 20261127 10:00:00 WRITE (/a 1)", .cxenstored),
        ("obj: CREATE connection 0x55d1c2b0", .cxenstored),
        ("wrl: dom 5 1000 msec", .cxenstored),
        ("CREATE connection 0x55d1c2b0", .cxenstored),
        ("OUT 0x55d1c3f0 20261127 10:00:00 WRITE (OK )", .cxenstored),
        (#"{"domid": 5, "op": "rm", "path": "/a"}"#, .jsonLines),
        (#"   {"domid": 5}"#, .jsonLines),
    ])
    func detects(_ line: String, _ format: TraceFormat) {
        #expect(TraceFormat.detect(firstLine: Array(line.utf8)) == format)
    }

    @Test(arguments: ["hello", "[x]", "Nov 27 10:00:00 host xenstored: D5 write /a 1", "IN", ""])
    func doesNotGuess(_ line: String) {
        #expect(TraceFormat.detect(firstLine: Array(line.utf8)) == nil)
    }

    @Test func detectionSkipsEmptyLinesAndStopsOnAnUnknownFormat() {
        let read = TraceTesting.read("\n\n  \n{\"domid\": 5, \"op\": \"rm\", \"path\": \"/a\"}\n")
        #expect(read.reader.format == .jsonLines)
        #expect(read.summaries == ["4 D5 rm /a"])

        let unknown = TraceTesting.read("\nsomething else\n[20261127T10:00:00.000Z]  D5           rm        /a\n")
        #expect(unknown.events.isEmpty)
        #expect(unknown.diagnosticSummaries == ["2:1 E0801"])
        #expect(unknown.reader.format == nil)
    }

    @Test func aNamedFormatIsNotDetected() {
        // Named as JSON lines, an oxenstored line is simply invalid JSON.
        let read = TraceTesting.read("[20261127T10:00:00.000Z]  D5           rm        /a\n", format: .jsonLines)
        #expect(read.reader.format == .jsonLines)
        #expect(read.diagnosticSummaries == ["1:1 E0805"])
    }

    @Test func formatNames() {
        #expect(TraceFormat.allCases.map(\.rawValue) == ["oxenstored", "cxenstored", "json"])
        #expect(TraceFormat(rawValue: "json") == .jsonLines)
    }
}
