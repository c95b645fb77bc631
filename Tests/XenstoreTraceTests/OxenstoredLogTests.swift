import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// oxenstored access logs: every operation oxenstored prints, and what the reader makes of it.
@Suite struct OxenstoredLogTests {
    @Test func everyOperation() throws {
        let read = try TraceTesting.readFixture("oxenstored-all-ops.log")
        #expect(read.reader.format == .oxenstored)
        #expect(
            read.summaries == [
                "1 A1 newconn",
                "2 A1 introduce(5) = \"5 12345 1\"",
                "3 D5 newconn",
                "4 A1 mkdir /local/domain/0/backend/vbd/5/768",
                "5 A1.1 tx_start",
                "6 A1.1 write /local/domain/0/backend/vbd/5/768/frontend = \"/local/domain/5/device/vbd/768\"",
                "7 A1.1 setperms[n5,r0] /local/domain/5/device/vbd/768 = \"n5 r0\"",
                "8 A1.1 tx_end(?)",
                "9 A1.1 tx_outcome(committed)",
                "10 D5 read /local/domain/5/device/vbd/768/backend",
                "11 D5 directory device/vbd",
                "12 D5 getperms /local/domain/5/device/vbd/768",
                "13 D5 watch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "14 D5 watch_event /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "15 D5.3 write /local/domain/5/device/vbd/768/ring-ref = \"8\"",
                "16 D5.3 write /local/domain/5/device/vbd/768/state = \"4\"",
                "17 D5.3 tx_outcome(conflict)",
                "18 D5.4 write /local/domain/5/device/vbd/768/ring-ref = \"8\" replay=3",
                "19 D5.4 tx_outcome(coalesced) /local/domain/5/device/vbd/768 = \"write\"",
                "20 D5 write /local/domain/5/data/note = \"a \\\"quoted\\\" \\\\ value\\twith tab, café and  two spaces\"",
                "21 D5 write /local/domain/5/data/empty = \"\"",
                "22 D5 rm /local/domain/5/data",
                "23 D5 error(EACCES) = \"EACCES\"",
                "24 D5 unwatch /local/domain/0/backend/vbd/5/768/state = \"FFFFFFFF8135A000\"",
                "25 D5 reset_watches",
                "26 D5 other(getdomain) = \"5\"",
                "27 A1 other(is introduced) = \"5\"",
                "28 A1 set_target(7,5) = \"7 5\"",
                "29 A1 resume(5) = \"5\"",
                "30 D5 other(w notfired) = \"EPERM perms=[n0] path=/local/domain/0/secret\"",
                "31 D5 other(invalid)",
                "32 D5 other(debug) = \"print hello\"",
                "35 A1 release(5) = \"5\"",
                "36 D5 endconn",
                "37 A2 set_target(7,5) = \"7 5\"",
                "38 A2 other(isintro) = \"5\"",
                "39 A2 watch_event /local/domain/7 = \"tok\"",
                "40 A2 other(frobnicate) = \"/local/domain/7 x\"",
            ])
        // Lines 33 (xenstore-control print) and 34 (live-update marker) are the daemon's own.
        #expect(read.reader.statistics.skipped == [.daemonAnnotation: 2])
        #expect(read.diagnosticSummaries == ["40:40 W0801"])
        #expect(read.diagnostics.first?.message.contains("frobnicate") == true)
        #expect(read.events.first?.time == TraceTesting.base + 7)
        #expect(read.events.last?.time == TraceTesting.base + 303)
        #expect(read.reader.statistics == TraceStatistics(lines: 40, events: 38, skipped: [.daemonAnnotation: 2]))
    }

    @Test func unknownOperationsAreReportedOncePerName() {
        let read = TraceTesting.read(
            """
            [20261127T10:00:00.000Z]  D5           frob      /a
            [20261127T10:00:00.000Z]  D5           frob      /b
            [20261127T10:00:00.000Z]  D5           blah      /c
            """)
        #expect(read.summaries == ["1 D5 other(frob) = \"/a\"", "2 D5 other(frob) = \"/b\"", "3 D5 other(blah) = \"/c\""])
        #expect(read.diagnosticSummaries == ["1:40 W0801", "3:40 W0801"])
    }

    @Test func malformedLines() throws {
        let read = try TraceTesting.readFixture("malformed.oxenstored.log")
        #expect(
            read.diagnosticSummaries == [
                "3:2 E0802",  // month 13
                "4:2 E0802",  // hour 25
                "5:2 E0802",  // not oxenstored's date format
                "6:27 E0803",  // X5
                "7:27 E0803",  // D5.x
                "8:29 E0804",  // no operation
                "9:27 E0804",  // no connection
                "10:24 E0804",  // truncated inside the timestamp
                "11:24 E0804",  // a line of xenstored.log
                "13:50 W0803",  // setperms q5
                "14:50 W0803",  // release five
                "15:178 W0805",  // truncated by oxenstored
                "16:1 E0802",  // no timestamp at all
            ])
        #expect(
            read.summaries == [
                "1 D5 write /local/domain/5/a = \"1\"",
                "13 D5 other(setperms) /x = \"q5\"",
                "14 D5 other(release) = \"five\"",
                "15 D5 write /local/domain/5/data/long = \"\(String(repeating: "x", count: 102))..\" truncated",
            ])
        #expect(read.reader.statistics == TraceStatistics(lines: 16, events: 4, emptyLines: 2, malformedLines: 10))
        #expect(read.reader.errorCount == 10)
        #expect(read.reader.warningCount == 3)
        #expect(read.diagnostics.allSatisfy { $0.location.file == "malformed.oxenstored.log" })
    }

    @Test func crlfByteOrderMarkAndEmptyLines() throws {
        let read = try TraceTesting.readFixture("crlf.oxenstored.log")
        #expect(read.reader.format == .oxenstored)
        #expect(
            read.summaries == [
                "1 D5 write /local/domain/5/a = \"1\"", "3 D5 rm /local/domain/5/a", "4 D5 write /local/domain/5/b = \"\"",
            ])
        #expect(read.diagnostics.isEmpty)
        #expect(read.reader.statistics.emptyLines == 1)
    }

    @Test func escapesAreUndone() {
        // OCaml's String.escaped: \\, \", \n, \t, \r, \b and \ddd (decimal bytes); a cut-off escape stays.
        let read = TraceTesting.read(
            #"""
            [20261127T10:00:00.000Z]  D5           write     /a x\\y\"z\n\t\r\b\195\169!
            [20261127T10:00:00.000Z]  D5           write     /b cut\19
            """#)
        #expect(read.events.map(\.value) == ["x\\y\"z\n\t\r\u{8}é!", "cut\\19"])
    }

    @Test func columnsArePaddedButDataMayStartWithASpace() {
        // The operation name is padded to 9 columns and one space follows, so a payload that starts with
        // NUL (shown as a space) keeps it; less padding (hand-made logs) is accepted too.
        let read = TraceTesting.read(
            """
            [20261127T10:00:00.000Z]  D5           debug      spaced
            [20261127T10:00:00.000Z] D5 write /a b c
            [20261127T10:00:00.000Z]  D5           reset watches  x
            """)
        #expect(read.summaries == ["1 D5 other(debug) = \" spaced\"", "2 D5 write /a = \"b c\"", "3 D5 reset_watches"])
        #expect(read.diagnostics.isEmpty)
    }

    @Test func connections() {
        let read = TraceTesting.read(
            """
            [20261127T10:00:00.000Z]  D0           write     /a 1
            [20261127T10:00:00.000Z]  D32753.17    write     /a 1
            [20261127T10:00:00.000Z]  A12          write     /a 1
            [20261127T10:00:00.000Z]  A12.3        write     /a 1
            [20261127T10:00:00.000Z]  r(9):A12.10  write     /a 1
            [20261127T10:00:00.000Z]  D5.0         write     /a 1
            [20261127T10:00:00.000Z]  D           write     /a 1
            [20261127T10:00:00.000Z]  r(x):D5     write     /a 1
            [20261127T10:00:00.000Z]  D5.         write     /a 1
            """)
        #expect(
            read.events.map { "\($0.connection) \($0.transaction.map(String.init) ?? "-") \($0.replayOf.map(String.init) ?? "-")" } == [
                "D0 - -", "D32753 17 -", "A12 - -", "A12 3 -", "A12 10 9", "D5 - -",
            ])
        #expect(read.events.map(\.connection.isPrivileged) == [true, false, true, true, true, false])
        #expect(read.diagnosticSummaries == ["7:27 E0803", "8:27 E0803", "9:27 E0803"])
    }

    @Test func timestamps() {
        let read = TraceTesting.read(
            """
            [19700101T00:00:00.000Z]  D5           rm        /a
            [20240229T23:59:59.999Z]  D5           rm        /a
            [20261127T10:00:00Z]  D5           rm        /a
            [20261127T10:00:00.5Z]  D5           rm        /a
            [20261127T10:00:00.123456Z]  D5           rm        /a
            [20230229T10:00:00.000Z]  D5           rm        /a
            """)
        #expect(
            read.events.map(\.time) == [
                0, 1_709_251_199_999, TraceTesting.base, TraceTesting.base + 500, TraceTesting.base + 123,
            ])
        #expect(read.diagnosticSummaries == ["6:2 E0802"])
    }
}
