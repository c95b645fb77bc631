import Foundation
import PolicyDiagnostics
import Synchronization
import Testing

@testable import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#endif

/// The reader streams: events come out while the trace is still being written, lines of any length
/// are bounded, diagnostics are bounded, and every line is accounted for.
@Suite struct StreamingTests {
    /// Line `i` of a generated trace: a frontend's state write, in each format.
    static func generatedLine(_ i: Int, _ format: TraceFormat) -> String {
        let domid = 1 + i % 200
        let minute = i / 60_000
        let second = i / 1000 % 60
        let millisecond = i % 1000
        let path = "/local/domain/\(domid)/device/vbd/\(768 + i % 4 * 16)/state"
        let state = 1 + i % 6
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: width - text.count) + text
        }
        switch format {
        case .oxenstored:
            let connection = "D\(domid)"
            return
                "[20261127T10:\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z]  \(connection)\(String(repeating: " ", count: 12 - connection.count)) write     \(path) \(state)"
        case .cxenstored:
            return "io: IN 0x55d1c3f0 (d\(domid)) 20261127 10:\(pad(minute, 2)):\(pad(second, 2)) WRITE (\(path) \(state))"
        case .jsonLines:
            return
                #"{"time": "2026-11-27T10:\#(pad(minute, 2)):\#(pad(second, 2)).\#(pad(millisecond, 3))Z", "domid": \#(domid), "op": "write", "path": "\#(path)", "value": "\#(state)"}"#
        }
    }

    /// 100,000 lines written into a pipe by another thread: the pipe holds 64 KiB, so the writer can
    /// only finish if the reader consumes the trace as it comes; the first event must arrive while the
    /// writer is still writing.
    @Test(arguments: TraceFormat.allCases)
    func aLongTraceStreamsThroughAPipe(_ format: TraceFormat) throws {
        let lineCount = 100_000
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writerDone = Atomic<Bool>(false)
        let writer = Thread {
            var chunk: [UInt8] = []
            for i in 0..<lineCount {
                chunk.append(contentsOf: Self.generatedLine(i, format).utf8)
                chunk.append(0x0A)
                if chunk.count > 16 * 1024 || i == lineCount - 1 {
                    var offset = 0
                    while offset < chunk.count {
                        let written = chunk.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, chunk.count - offset) }
                        if written <= 0 { break }
                        offset += written
                    }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            close(writeEnd)
            writerDone.store(true, ordering: .sequentiallyConsistent)
        }
        writer.start()

        let reader = TraceReader(fileDescriptor: readEnd, closeWhenDone: true, options: .init(format: nil, fileName: "<pipe>"))
        var count = 0
        var firstArrivedEarly = false
        var lastTime: Int64 = 0
        var ordered = true
        while let event = reader.next() {
            if count == 0 { firstArrivedEarly = !writerDone.load(ordering: .sequentiallyConsistent) }
            count += 1
            if case .write = event.operation {} else { ordered = false }
            if event.line != count { ordered = false }
            if let time = event.time {
                if time < lastTime { ordered = false }
                lastTime = time
            }
        }
        #expect(count == lineCount)
        #expect(firstArrivedEarly)
        #expect(ordered)
        #expect(reader.format == format)
        #expect(reader.diagnostics.isEmpty)
        #expect(reader.statistics == TraceStatistics(lines: lineCount, events: lineCount))
    }

    @Test func linesLongerThanTheLimitAreSkippedWithoutBeingHeld() {
        // Longer than the limit and longer than the reader's 256 KiB buffer: both kinds are skipped.
        let long = "[20261127T10:00:00.000Z]  D5           write     /a " + String(repeating: "v", count: 600_000)
        let medium = "[20261127T10:00:00.000Z]  D5           write     /b " + String(repeating: "v", count: 5_000)
        let good = "[20261127T10:00:00.000Z]  D5           write     /c 1"
        let text = [good, long, good, medium, good, long].joined(separator: "\n")
        let read = TraceTesting.read(text, options: .init(fileName: "t", maximumLineLength: 4096))
        #expect(read.summaries == ["1 D5 write /c = \"1\"", "3 D5 write /c = \"1\"", "5 D5 write /c = \"1\""])
        #expect(read.diagnosticSummaries == ["2:1 E0807", "4:1 E0807", "6:1 E0807"])
        #expect(read.diagnostics[0].message.contains("\(long.utf8.count) bytes"))
        #expect(read.diagnostics[2].message.contains("\(long.utf8.count) bytes"))
        #expect(read.reader.statistics == TraceStatistics(lines: 6, events: 3, malformedLines: 3))
    }

    @Test func diagnosticsAreBounded() {
        let text = (0..<500).map { _ in "[20261127T10:00:00.000Z]  X5  write /a 1" }.joined(separator: "\n")
        let read = TraceTesting.read(text, format: .oxenstored, options: .init(fileName: "t", maximumDiagnostics: 10))
        #expect(read.diagnostics.count == 11)
        #expect(read.diagnostics.last?.code == "N0801")
        #expect(read.diagnostics.last?.message.hasPrefix("490 more diagnostics") == true)
        #expect(read.reader.errorCount == 500)
        #expect(read.reader.statistics.malformedLines == 500)
    }

    @Test func everyLineIsAccountedFor() throws {
        for fixture in [
            "oxenstored-all-ops.log", "cxenstored-all-ops.trace", "json-all-ops.jsonl", "malformed.oxenstored.log",
            "malformed.cxenstored.trace", "malformed.jsonl", "crlf.oxenstored.log",
        ] {
            let statistics = try TraceTesting.readFixture(fixture).reader.statistics
            #expect(
                statistics.events + statistics.emptyLines + statistics.skippedLines + statistics.malformedLines == statistics.lines,
                "\(fixture): \(statistics)")
        }
    }

    @Test func lastLineWithoutNewlineAndEmptyInput() {
        #expect(TraceTesting.read("[20261127T10:00:00.000Z]  D5           rm        /a").summaries == ["1 D5 rm /a"])
        let empty = TraceTesting.read("")
        #expect(empty.events.isEmpty && empty.diagnostics.isEmpty && empty.reader.format == nil)
        let blank = TraceTesting.read("\n \n\t\r\n")
        #expect(blank.events.isEmpty && blank.diagnostics.isEmpty && blank.reader.statistics.emptyLines == 3)
    }

    /// An input without line ends for ever (a device, a binary file) ends the reading with a
    /// diagnostic instead of reading it for ever.
    @Test func endlessInputWithoutLineEndsStops() throws {
        let reader = try TraceReader(path: "/dev/zero", options: TraceReader.Options(maximumLineLength: 4096))
        while reader.next() != nil {}
        #expect(reader.diagnostics.map(\.code) == ["E0807", "E0808"])
        #expect(reader.diagnostics.last?.message.contains("this is not a text trace") == true)
    }

    @Test func openingFailures() {
        #expect(throws: TraceReader.OpenError.self) { try TraceReader(path: "/nonexistent/trace.log") }
        do {
            _ = try TraceReader(path: TraceTesting.fixtures.path)
            Issue.record("a directory is not a trace")
        } catch {
            #expect(error.diagnostic.code == "E0001")
            #expect(error.diagnostic.message.contains("directory"))
        }
    }
}
