import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// cxenstored traces (`xenstored -T`): IN lines are requests, the rest is skipped explicitly.
@Suite struct CxenstoredTraceTests {
    @Test func everyMessageType() throws {
        let read = try TraceTesting.readFixture("cxenstored-all-ops.trace")
        #expect(read.reader.format == .cxenstored)
        #expect(
            read.summaries == [
                "2 D0 introduce(5) = \"5 12345 1\" h=55d1c2b0",
                "4 D0 mkdir /local/domain/0/backend/vbd/5/768 h=55d1c2b0",
                "5 D0 tx_start h=55d1c2b0",
                "7 D0 write /local/domain/0/backend/vbd/5/768/frontend = \"/local/domain/5/device/vbd/768\" h=55d1c2b0",
                "8 D0 setperms[n5,r0] /local/domain/5/device/vbd/768 = \"n5 r0\" h=55d1c2b0",
                "9 D0 tx_end(T) h=55d1c2b0",
                "10 D5 read /local/domain/5/device/vbd/768/backend h=55d1c3f0",
                "11 D5 directory device/vbd h=55d1c3f0",
                "12 D5 directory device/vbd = \"0\" h=55d1c3f0",
                "13 D5 getperms /local/domain/5/device/vbd/768 h=55d1c3f0",
                "14 D5 watch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\" h=55d1c3f0",
                "16 D5 write /local/domain/5/device/vbd/768/state = \"4\" h=55d1c3f0",
                "17 D5 write /local/domain/5/data/note = \"a value  with spaces\" h=55d1c3f0",
                "18 D5 write /local/domain/5/data/empty = \"\" h=55d1c3f0",
                "19 D5 rm /local/domain/5/data h=55d1c3f0",
                "21 D5 tx_end(F) h=55d1c3f0",
                "22 D5 unwatch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\" h=55d1c3f0",
                "23 D5 reset_watches h=55d1c3f0",
                "24 D5 other(GET_DOMAIN_PATH) = \"5\" h=55d1c3f0",
                "25 D0 other(IS_DOMAIN_INTRODUCED) = \"5\" h=55d1c2b0",
                "26 D0 set_target(7,5) = \"7 5\" h=55d1c2b0",
                "27 D0 resume(5) = \"5\" h=55d1c2b0",
                "28 D0 other(CONTROL) = \"print hello\" h=55d1c2b0",
                "29 D0 other(GET_FEATURE) = \"5\" h=55d1c2b0",
                "30 D0 other(SET_FEATURE) = \"5 1\" h=55d1c2b0",
                "31 D0 other(GET_QUOTA) = \"5 nodes\" h=55d1c2b0",
                "32 D0 other(SET_QUOTA) = \"5 nodes 2000\" h=55d1c2b0",
                "33 D0 release(5) = \"5\" h=55d1c2b0",
                "34 D0 other(**UNKNOWN**) h=0",
            ])
        // No transaction ids in a cxenstored trace.
        #expect(read.events.allSatisfy { $0.transaction == nil })
        #expect(read.events.first?.time == TraceTesting.base + 1000)
        #expect(read.reader.statistics.skipped == [.reply: 4, .daemonRecord: 6, .unrecognised: 1])
        #expect(read.reader.statistics.events == 29)
        #expect(read.diagnosticSummaries == ["34:37 W0801", "40:1 W0802"])
    }

    @Test func malformedLines() throws {
        let read = try TraceTesting.readFixture("malformed.cxenstored.trace")
        #expect(
            read.diagnosticSummaries == [
                "2:24 E0802",  // time without seconds
                "3:5 E0804",  // neither IN nor OUT
                "4:8 E0803",  // not a pointer
                "5:19 E0803",  // no (d<domid>)
                "6:19 E0803",  // (dx)
                "7:48 E0804",  // no closing parenthesis: a value with a newline
                "8:1 W0802",  // ... whose second half is not a trace line
                "9:41 E0804",  // no message type
                "10:59 W0803",  // TRANSACTION_END X
                "11:42 W0801",  // FROB
                "13:24 E0802",  // 31 November
            ])
        #expect(read.diagnostics[3].hint?.contains("older") == true)
        #expect(
            read.summaries == [
                "1 D5 write /x = \"1\" h=55d1c3f0", "10 D5 other(TRANSACTION_END) = \"X\" h=55d1c3f0",
                "11 D5 other(FROB) = \"x\" h=55d1c3f0",
            ])
        #expect(
            read.reader.statistics == TraceStatistics(lines: 13, events: 3, emptyLines: 1, skipped: [.unrecognised: 1], malformedLines: 8))
    }

    @Test func localTimeOffset() {
        // cxenstored prints local time; the reader is told the daemon's offset from UTC.
        let line = "io: IN 0x1 (d5) 20261127 11:00:00 RM (/a )\n"
        let utc = TraceTesting.read(line)
        let cet = TraceTesting.read(line, options: .init(fileName: "t", cxenstoredUTCOffsetSeconds: 3600))
        #expect(utc.events.first?.time == TraceTesting.base + 3_600_000)
        #expect(cet.events.first?.time == TraceTesting.base)
    }

    @Test func olderTracesWithoutThePrefix() {
        // Before the "io: " prefix, lines started with the direction (and had no domain id).
        let read = TraceTesting.read(
            """
            IN 0x55d1c3f0 (d5) 20261127 10:00:00 WRITE (/a 1)
            OUT 0x55d1c3f0 (d5) 20261127 10:00:00 WRITE (OK )
            IN 0x55d1c3f0 20261127 10:00:00 WRITE (/a 1)
            """)
        #expect(read.reader.format == .cxenstored)
        #expect(read.summaries == ["1 D5 write /a = \"1\" h=55d1c3f0"])
        #expect(read.diagnosticSummaries == ["3:15 E0803"])
    }
}
