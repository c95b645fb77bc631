import Foundation
import ProtocolReplay
import Synchronization
import Testing
import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#endif

/// A live log (`replay --stream`): findings come out while the trace is still being written, and
/// with a clock, an expectation expires while nothing is written.
@Suite struct LiveReplayTests {
    /// The first 26 lines of `violation-backend-stalled.log`: they arm "the backend leaves
    /// Initialising within 10 s" and end before the line whose time passes the deadline.
    static func stalledPrefix() throws -> [UInt8] {
        let text = try String(
            contentsOf: packageRoot.appendingPathComponent("Examples/traces/violation-backend-stalled.log"), encoding: .utf8)
        return Array((text.split(separator: "\n").prefix(26).joined(separator: "\n") + "\n").utf8)
    }

    /// Replays the prefix from a pipe left open; the pipe is closed at the first finding or after
    /// `timeout` seconds. Returns the findings, and whether the first came while the pipe was open.
    static func replayOpenPipe(clock: (() -> Int64)?, timeout: Double) throws -> (findings: [Finding], early: Bool) {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let prefix = try stalledPrefix()
        #expect(prefix.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) } == prefix.count)
        let closed = Atomic<Bool>(false)
        let closeOnce: @Sendable () -> Void = { if !closed.exchange(true, ordering: .sequentiallyConsistent) { close(writeEnd) } }
        Thread {
            Thread.sleep(forTimeInterval: timeout)
            closeOnce()
        }.start()
        let engine = ReplayEngine(protocols: exampleProtocols)
        var early = false
        engine.findingHandler = { _ in
            if !early { early = !closed.load(ordering: .sequentiallyConsistent) }
            closeOnce()
        }
        engine.replay(TraceReader(fileDescriptor: readEnd, closeWhenDone: true), live: true, clock: clock)
        engine.finish()
        return (engine.findings, early)
    }

    @Test func aStallIsReportedWhileTheLogIsQuiet() throws {
        // Any time past the deadline (10:00:10.017 on the trace's clock) will do.
        let (findings, early) = try Self.replayOpenPipe(clock: { 1_800_000_000_000 }, timeout: 20)
        #expect(early)
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.rule == "expect be.state != Initialising within 10s")
        #expect(finding.role == "backend" && finding.domid == 3 && finding.line == 17)
        #expect(finding.message.hasSuffix("passed while the trace was idle after line 26)"))
    }

    /// Without a clock, time passes only with the messages: the quiet log reports nothing.
    @Test func withoutAClockTimeWaitsForTheNextMessage() throws {
        let (findings, _) = try Self.replayOpenPipe(clock: nil, timeout: 1.5)
        #expect(findings.isEmpty)
    }

    /// A clock that has not reached the deadline fires nothing.
    @Test func aClockBeforeTheDeadlineFiresNothing() throws {
        // 10:00:05 on 2026-11-27 (UTC), before the deadline.
        let (findings, _) = try Self.replayOpenPipe(clock: { 1_795_773_605_000 }, timeout: 2.5)
        #expect(findings.isEmpty)
    }
}
