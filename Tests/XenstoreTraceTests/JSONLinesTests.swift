import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// Our JSON-lines format: the whole model, strict JSON, clear messages.
@Suite struct JSONLinesTests {
    @Test func everyOperation() throws {
        let read = try TraceTesting.readFixture("json-all-ops.jsonl")
        #expect(read.reader.format == .jsonLines)
        #expect(
            read.summaries == [
                "1 A0 newconn",
                "2 A1 introduce(5)",
                "3 D5 newconn",
                "4 A1 mkdir /local/domain/0/backend/vbd/5/768",
                "5 A1.1 tx_start",
                "6 A1.1 write /local/domain/0/backend/vbd/5/768/frontend = \"/local/domain/5/device/vbd/768\"",
                "7 A1.1 setperms[n5,r0] /local/domain/5/device/vbd/768 = \"n5 r0\"",
                "8 A1.1 tx_end(T)",
                "9 A1.1 tx_outcome(committed)",
                "10 D5 read /local/domain/5/device/vbd/768/backend",
                "11 D5 directory device/vbd",
                "12 D5 getperms /local/domain/5/device/vbd/768",
                "13 D5 watch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "14 D5 watch_event /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "15 D5.3 write /local/domain/5/device/vbd/768/state = \"4\"",
                "16 D5.3 tx_end(F)",
                "17 D5.4 write /local/domain/5/device/vbd/768/ring-ref = \"8\" replay=3",
                "18 D5 write /local/domain/5/data/note = \"a \\\"quoted\\\" \\\\ value\\twith tab, café, 😀 and a NUL \\0\"",
                "19 D5 write /local/domain/5/data/empty = \"\"",
                "20 D5 rm /local/domain/5/data",
                "21 D5 error(EACCES)",
                "22 D5 unwatch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "23 D5 reset_watches",
                "24 A1 set_target(7,5)",
                "25 A1 resume(5)",
                "26 A1 release(5)",
                "27 D5 endconn h=55d1c3f0",
                "28 D5 other(get_domain_path) = \"5\"",
                "29 D0 write /tool/x = \"y\"",
                "30 D5 other(GET_DOMAIN_PATH) = \"5\"",
                "31 D5.6 tx_end(?)",
            ])
        // Strings and integers, with and without an offset, give the same clock.
        #expect(read.events.prefix(4).map(\.time) == [0, 1, 2, 3].map { TraceTesting.base + $0 })
        #expect(read.events[9].time == nil)
        #expect(read.diagnosticSummaries == ["28:14 W0801", "29:74 W0804"])
    }

    @Test func malformedLines() throws {
        let read = try TraceTesting.readFixture("malformed.jsonl")
        #expect(
            read.diagnosticSummaries == [
                "2:41 E0805",  // not closed
                "3:43 E0805",  // text after the object
                "4:1 E0805",  // not an object
                "5:2 E0806",  // domid is a string
                "6:1 E0806",  // no connection
                "7:1 E0806",  // two connections
                "8:1 E0806",  // no op
                "9:14 E0806",  // write without path
                "10:43 E0806",  // duplicate member
                "11:2 E0806",  // time not RFC 3339
                "12:2 E0806",  // 30 February
                "13:54 E0805",  // unknown escape
                "14:2 E0806",  // negative domid
                "15:14 W0803",  // bad permission entry
                "16:43 W0804",  // unknown member
                "17:14 E0806",  // unknown outcome
                "18:2 E0806",  // domid 1.5
                "19:44 E0805",  // lone surrogate
            ])
        #expect(read.summaries == ["1 D5 write /x = \"1\"", "15 D5 other(setperms) /x = \"q5\"", "16 D5 write /x = \"\""])
        #expect(read.reader.statistics == TraceStatistics(lines: 20, events: 3, emptyLines: 1, malformedLines: 16))
        #expect(read.diagnostics[5].message == "give only one of 'domid', 'socket' and \"privileged\": true")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let read = TraceTesting.read("{\"domid\": 5, \"op\": \"rm\", \"path\": \"/a\", \"x\": \(deep)}\n")
        #expect(read.events.isEmpty)
        #expect(read.diagnostics.map(\.code) == ["E0805"])
    }

    @Test func everyEventRoundTripsThroughJSONLines() throws {
        // The JSON-lines format says everything a TraceEvent holds: writing any event of any format
        // and reading it back gives the same event.
        for fixture in ["oxenstored-all-ops.log", "cxenstored-all-ops.trace", "json-all-ops.jsonl", "malformed.oxenstored.log"] {
            let events = try TraceTesting.readFixture(fixture).events
            let text = events.map(\.jsonLine).joined(separator: "\n")
            let back = TraceTesting.read(text, format: .jsonLines)
            #expect(back.diagnostics.isEmpty, "\(fixture): \(back.diagnostics.map(\.message))")
            #expect(back.events.count == events.count)
            for (index, (original, copy)) in zip(events, back.events).enumerated() {
                var expected = original
                expected.line = index + 1
                #expect(copy == expected, "\(fixture) line \(original.line): \(original.jsonLine)")
            }
        }
    }

    @Test func writtenLines() {
        let event = TraceEvent(
            line: 9, time: TraceTesting.base + 42, connection: .domain(5), transaction: 3, operation: .write,
            path: "/local/domain/5/a", value: "x\"\n\u{1}")
        #expect(
            event.jsonLine
                == #"{"time": "2026-11-27T10:00:00.042Z", "domid": 5, "tx": 3, "op": "write", "path": "/local/domain/5/a", "value": "x\"\n\u0001"}"#
        )
        #expect(CivilTime.rfc3339(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(CivilTime.rfc3339(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }
}
