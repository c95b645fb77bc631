import Foundation
import PolicyDiagnostics
import Synchronization
import Testing

@testable import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#endif

/// `forEachBatch(handOverWhenIdle: true)`: a live log's events reach the consumer when the input
/// pauses, not when a batch is full or the input ends (`replay --stream`).
@Suite struct HandOverTests {
    static let line = "[20261127T10:00:00.000Z]  D5           write     /local/domain/5/data/x 1\n"

    /// Writes three lines into a pipe and keeps it open: the consumer must get them while the writer
    /// still holds the pipe open. A watchdog closes it after 10 s so that a failure cannot hang.
    @Test(arguments: [true, false])
    func aPausedInputIsHandedOver(_ readAhead: Bool) throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let text = Array((Self.line + Self.line + Self.line).utf8)
        #expect(text.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) } == text.count)
        let closed = Atomic<Bool>(false)
        let closeOnce: @Sendable () -> Void = { if !closed.exchange(true, ordering: .sequentiallyConsistent) { close(writeEnd) } }
        let watchdog = Thread {
            Thread.sleep(forTimeInterval: 10)
            closeOnce()
        }
        watchdog.start()

        let reader = TraceReader(fileDescriptor: readEnd, closeWhenDone: true, options: .init(fileName: "<pipe>"))
        var sizes: [Int] = []
        var beforeClose = false
        var diagnosticsSeen: [String] = []
        reader.diagnosticHandler = { diagnosticsSeen.append("\($0.code)") }
        reader.forEachBatch(readAhead: readAhead, batchSize: 1024, handOverWhenIdle: true, prepare: { $0 }) { batch in
            sizes.append(batch.count)
            if sizes.count == 1 {
                beforeClose = !closed.load(ordering: .sequentiallyConsistent)
                // A malformed line next: its diagnostic must be handed over as it is found too.
                let bad = Array("not a trace line\n".utf8)
                _ = bad.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) }
                closeOnce()
            }
        }
        #expect(beforeClose)
        #expect(sizes == [3])
        #expect(diagnosticsSeen == ["E0802"])
        #expect(reader.statistics.events == 3)
    }

    /// Without hand-over, the same paused input arrives in one batch only once it ends.
    @Test func withoutHandOverABatchWaitsForTheEnd() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let text = Array((Self.line + Self.line).utf8)
        #expect(text.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) } == text.count)
        let closed = Atomic<Bool>(false)
        let closer = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            closed.store(true, ordering: .sequentiallyConsistent)
            close(writeEnd)
        }
        closer.start()
        let reader = TraceReader(fileDescriptor: readEnd, closeWhenDone: true, options: .init(fileName: "<pipe>"))
        var afterClose: [Bool] = []
        reader.forEachBatch(readAhead: true, batchSize: 1024, prepare: { $0 }) { batch in
            afterClose.append(closed.load(ordering: .sequentiallyConsistent))
        }
        #expect(afterClose == [true])
    }
}
