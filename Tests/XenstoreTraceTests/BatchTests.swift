import Foundation
import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// `TraceReader.forEachBatch` delivers exactly what `next()` does, in order, with the same
/// statistics and diagnostics, whether the reading runs on a second thread or not.
@Suite struct BatchTests {
    static let fixtures = [
        "oxenstored-all-ops.log", "cxenstored-all-ops.trace", "json-all-ops.jsonl", "malformed.oxenstored.log",
        "malformed.cxenstored.trace", "malformed.jsonl", "crlf.oxenstored.log",
    ]

    static func batched(_ name: String, readAhead: Bool, batchSize: Int) throws -> TraceTesting.Read {
        let reader = try TraceReader(path: TraceTesting.path(name), options: .init(fileName: name))
        var events: [TraceEvent] = []
        var sizes: [Int] = []
        reader.forEachBatch(readAhead: readAhead, batchSize: batchSize) { batch in
            sizes.append(batch.count)
            events += batch
        }
        #expect(sizes.allSatisfy { $0 >= 1 && $0 <= batchSize })
        return TraceTesting.Read(events: events, diagnostics: reader.diagnostics, reader: reader)
    }

    @Test(arguments: fixtures, [true, false])
    func batchesAreTheEventsOfNext(_ name: String, readAhead: Bool) throws {
        let expected = try TraceTesting.readFixture(name)
        for batchSize in [1, 3, 4096] {
            let read = try Self.batched(name, readAhead: readAhead, batchSize: batchSize)
            #expect(read.events == expected.events)
            #expect(read.diagnosticSummaries == expected.diagnosticSummaries)
            #expect(read.reader.statistics == expected.reader.statistics)
            #expect(read.reader.format == expected.reader.format)
        }
    }

    /// Batches that keep paths as bytes give the same events once moved out (their paths made
    /// strings), and the bytes are the paths' UTF-8.
    @Test(arguments: fixtures, [true, false])
    func batchesWithPathsAsBytesGiveTheSameEvents(_ name: String, readAhead: Bool) throws {
        let expected = try TraceTesting.readFixture(name)
        let reader = try TraceReader(path: TraceTesting.path(name), options: .init(fileName: name))
        var events: [TraceEvent] = []
        var bytesMatch = true
        var kept = 0
        reader.forEachBatch(readAhead: readAhead, batchSize: 3, pathsAsBytes: true, prepare: { $0 }) { batch in
            let inPlace = batch.withEvents { list in
                list.indices.map { index -> (String?, [UInt8]?) in (list[index].path, batch.pathBytes(at: index).map(Array.init)) }
            }
            batch.removeAll { events.append($0) }
            for (offset, (path, bytes)) in inPlace.enumerated() {
                guard let bytes else { continue }
                kept += 1
                if path != nil || Array(events[events.count - inPlace.count + offset].path?.utf8 ?? "".utf8) != bytes { bytesMatch = false }
            }
        }
        #expect(events == expected.events)
        #expect(bytesMatch)
        #expect(reader.statistics == expected.reader.statistics)
        #expect(
            TraceTesting.Read(events: [], diagnostics: reader.diagnostics, reader: reader).diagnosticSummaries
                == expected.diagnosticSummaries)
        if reader.format == .oxenstored { #expect(kept > 0) }
    }

    /// Escaped, non-ASCII, relative and empty paths stay strings; long ones outgrow the batch's byte
    /// storage. Either way the events are those of `next()`.
    @Test(arguments: [true, false])
    func pathsAsBytesKeepEveryKindOfPath(_ readAhead: Bool) {
        let long = "/local/domain/5/" + String(repeating: "x", count: 700)
        let paths = [
            "/local/domain/5/data/a\\040b", "/local/domain/5/d\u{e9}j\u{e0}", "device/vbd/768/state", long, "/local/domain/5/x",
            "/local/domain/5/" + String(repeating: "y", count: 7), "/local/domain/5/\\t",
        ]
        var lines: [String] = []
        for (index, path) in paths.enumerated() {
            lines.append("[20261127T10:00:00.000Z]  D5           write     \(path) v\(index)")
            lines.append("[20261127T10:00:00.000Z]  D5           rm        \(path)")
            lines.append("[20261127T10:00:00.000Z]  D5           setperms  \(path) n5 r0 ")
            lines.append("[20261127T10:00:00.000Z]  D5           mkdir     ")
            lines.append("[20261127T10:00:00.000Z]  D5           write     ")
        }
        let text = Array((lines + lines + lines).joined(separator: "\n").utf8)
        var expected: [TraceEvent] = []
        let plain = TraceReader(bytes: text)
        while let event = plain.next() { expected.append(event) }
        let reader = TraceReader(bytes: text)
        var events: [TraceEvent] = []
        reader.forEachBatch(readAhead: readAhead, batchSize: 4, pathsAsBytes: true, prepare: { $0 }) { batch in
            batch.removeAll { events.append($0) }
        }
        #expect(events == expected)
        #expect(expected.count == 3 * lines.count)
        #expect(reader.statistics == plain.statistics)
    }

    /// A trace much longer than the batches that may wait: the reading thread waits for the
    /// consumer, and every line arrives once, in order.
    @Test func aLongTraceArrivesInOrder() {
        let count = 50_000
        let text = (0..<count).map { StreamingTests.generatedLine($0, .oxenstored) }.joined(separator: "\n") + "\n"
        let reader = TraceReader(bytes: Array(text.utf8))
        var next = 1
        var ordered = true
        reader.forEachBatch(batchSize: 100) { batch in
            for event in batch {
                if event.line != next { ordered = false }
                next += 1
            }
        }
        #expect(ordered)
        #expect(next == count + 1)
        #expect(reader.statistics.events == count)
    }

    /// `forEach` leaves the events in the batch; `removeAll` moves them out and empties it.
    @Test func eventBatchesLendOrGiveTheirEvents() {
        let batch = EventBatch(capacity: 3)
        for line in 1...3 {
            batch.append(TraceEvent(line: line, connection: .domain(5), operation: .write, path: "/local/domain/5/x\(line)", value: "v"))
        }
        #expect(batch.isFull)
        var lent: [Int] = []
        batch.forEach { lent.append($0.line) }
        #expect(lent == [1, 2, 3])
        #expect(batch.withEvents { $0.map(\.path) } == ["/local/domain/5/x1", "/local/domain/5/x2", "/local/domain/5/x3"])
        // A full batch still takes events: it grows.
        batch.append(TraceEvent(line: 4, connection: .socket(1), operation: .rm, path: "/local/domain/5/x1"))
        #expect(batch.count == 4)
        var given: [TraceEvent] = []
        batch.removeAll { given.append($0) }
        #expect(given.map(\.line) == [1, 2, 3, 4])
        #expect(given.map(\.path) == ["/local/domain/5/x1", "/local/domain/5/x2", "/local/domain/5/x3", "/local/domain/5/x1"])
        #expect(batch.count == 0)
    }
}
