import Foundation
import PolicyDiagnostics
import TestSupport
import Testing
import XenstoreTrace

/// The shipped traces and the reader's fixtures, mutated a few thousand times with a fixed seed and
/// read to the end, in the detected format or a wrong one: whatever the bytes, the reader returns
/// quickly, every diagnostic has a stable code and a location inside the trace, every line is counted
/// once (an event, empty, skipped for a reason, or malformed with an error), and a trace without
/// errors loses no line.
@Suite struct TraceFuzzTests {
    /// `Tests/XenstoreTraceTests/<this file>` -> the package root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The traces by name: `Examples/traces/*` and `Tests/XenstoreTraceTests/Fixtures/*`.
    static let traces: [(name: String, bytes: [UInt8])] = {
        var traces: [(String, [UInt8])] = []
        for directory in ["Examples/traces", "Tests/XenstoreTraceTests/Fixtures"] {
            let url = root.appendingPathComponent(directory)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
            for name in names {
                guard let data = try? Data(contentsOf: url.appendingPathComponent(name)) else { continue }
                traces.append((name, Array(data)))
            }
        }
        return traces
    }()

    /// What mutations insert: the formats' words and punctuation, and hostile values.
    static let tokens: [[UInt8]] =
        [
            "[20261127T10:00:00.000Z]", "[99999999T99:99:99.999Z]", "[2026", "]", " D5 ", " D0.1 ", " A2 ", " D99999999999999999999 ",
            "=======>", "write", "mkdir", "rm", "setperms", "read", "directory", "getperms", "watch", "unwatch", "t start",
            "t end", "introduce", "release", "resume", "set_target", "reset_watches", "newconn", "endconn", "error", "EACCES",
            "/local/domain/5/device/vbd/768/state", "/", "//", "@introduceDomain", "io: ", "IN ", "OUT ", "0x55d1c2a0", "(d5)",
            "(d-1)", "20261127 10:00:00", "WRITE (", "TRANSACTION_START (", ")", "obj: ", "CREATE ", "DESTROY ", "CONN ", "wrl: ",
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\u0000", "null", "true", "false", "{\"time\": ",
            "\"domid\": ", "\"op\": \"write\"", "\"path\": ", "\"value\": ", "\"tx\": ", "-1", "0", "1e308", "-0",
            "18446744073709551616", "340282366920938463463374607431768211456", "99999999999999999999999999999999999999999999",
            "\n", "\r\n", "\r", "\t", " ", String(repeating: "{\"a\":", count: 100), String(repeating: "[", count: 300),
            String(repeating: "x", count: 5000), "\u{202E}",
        ].map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0x1B]]

    /// Reads `bytes` to the end with `options`, checks the outcome, and returns how long reading took.
    @discardableResult
    static func probe(
        _ bytes: [UInt8], format: TraceFormat?, _ label: @autoclosure () -> String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Duration {
        let clock = ContinuousClock()
        let reader = TraceReader(bytes: bytes, options: .init(format: format, fileName: "fuzz.trace"))
        var events: [TraceEvent] = []
        let time = clock.measure { while let event = reader.next() { events.append(event) } }
        // A guard against pathological slowness, not a speed test (the benchmarks are): traces of a few
        // kilobytes take milliseconds, and a machine busy with parallel tests may be ten times slower.
        #expect(time < .seconds(10), "\(label()) took \(time)", sourceLocation: sourceLocation)
        let lines = LineTable(bytes)
        let diagnostics = reader.diagnostics
        for diagnostic in diagnostics {
            let context = "\(label()): \(diagnostic.location): \(diagnostic.code) \(diagnostic.message.prefix(200))"
            #expect(isStableCode(diagnostic.code, severity: diagnostic.severity), "\(context)", sourceLocation: sourceLocation)
            #expect(!diagnostic.message.isEmpty, "\(context)", sourceLocation: sourceLocation)
            #expect(diagnostic.location.file == "fuzz.trace", "\(context)", sourceLocation: sourceLocation)
            if diagnostic.code == TraceDiagnosticCode.diagnosticLimit {
                // The documented file-level location of the note on diagnostics not kept.
                #expect(diagnostic.location.line == 0 && diagnostic.location.column == 0, "\(context)", sourceLocation: sourceLocation)
            } else {
                #expect(
                    lines.contains(line: diagnostic.location.line, column: diagnostic.location.column), "\(context)",
                    sourceLocation: sourceLocation)
            }
        }
        // Every line read is counted exactly once, and every malformed line has its error.
        let statistics = reader.statistics
        #expect(
            statistics.lines == statistics.events + statistics.emptyLines + statistics.skippedLines + statistics.malformedLines,
            "\(label()): \(statistics)", sourceLocation: sourceLocation)
        #expect(statistics.lines <= lines.lengths.count, "\(label()): \(statistics)", sourceLocation: sourceLocation)
        #expect(statistics.events == events.count, "\(label())", sourceLocation: sourceLocation)
        #expect(statistics.malformedLines <= reader.errorCount, "\(label()): \(statistics)", sourceLocation: sourceLocation)
        #expect(
            zip(events, events.dropFirst()).allSatisfy { $0.line < $1.line }
                && events.allSatisfy { $0.line >= 1 && $0.line <= statistics.lines },
            "\(label()): event lines", sourceLocation: sourceLocation)
        if reader.errorCount == 0 {
            // Nothing dropped silently: every line that is not blank gave an event or a skip reason.
            #expect(statistics.malformedLines == 0, "\(label())", sourceLocation: sourceLocation)
            if lines.lengths.contains(where: { $0 > 0 }) && reader.format != nil {
                #expect(statistics.events + statistics.skippedLines > 0 || statistics.lines == statistics.emptyLines, "\(label())")
            }
        }
        return time
    }

    /// `E0804`, `W0801`, `N0801`: the severity's letter and four digits.
    static func isStableCode(_ code: DiagnosticCode, severity: Severity) -> Bool {
        let scalars = Array(code.rawValue.unicodeScalars)
        let letter: Unicode.Scalar = severity == .error ? "E" : severity == .warning ? "W" : "N"
        return scalars.count == 5 && scalars[0] == letter && scalars.dropFirst().allSatisfy { ("0"..."9").contains($0) }
    }

    @Test func theTracesAreThere() {
        #expect(Self.traces.count >= 30, "\(Self.traces.map(\.name))")
        for trace in Self.traces where !trace.name.hasPrefix("malformed") {
            Self.probe(trace.bytes, format: nil, trace.name)
        }
    }

    @Test func everySixteenthTruncationInEveryFormat() {
        for trace in Self.traces {
            for sixteenths in 0..<16 {
                let cut = ByteMutator.truncated(trace.bytes, sixteenths: sixteenths)
                for format in [nil] + TraceFormat.allCases {
                    Self.probe(cut, format: format, "\(trace.name) cut at \(sixteenths)/16 as \(format?.rawValue ?? "detected")")
                }
            }
        }
    }

    /// Random mutations, a few at a time; one input in four is read in a format named at random
    /// (often the wrong one, as a wrong `--format` would).
    @Test(arguments: 0..<4)
    func randomMutations(_ shard: Int) {
        var mutator = ByteMutator(seed: 0x7ace_0000 + UInt64(shard), tokens: Self.tokens)
        var slowest = Duration.zero
        for round in 0..<Self.roundsPerShard {
            let trace = Self.traces[mutator.below(Self.traces.count)]
            var bytes = trace.bytes
            let kinds = mutator.mutate(&bytes, upTo: 4)
            let format = mutator.below(4) == 0 ? TraceFormat.allCases[mutator.below(TraceFormat.allCases.count)] : nil
            let label = "shard \(shard) round \(round) (\(trace.name) as \(format?.rawValue ?? "detected"): \(kinds))"
            slowest = max(slowest, Self.probe(bytes, format: format, label))
        }
        print("TraceFuzzTests shard \(shard): \(Self.roundsPerShard) inputs, slowest \(slowest)")
    }

    /// Mutated traces per shard of `randomMutations` (four shards).
    static let roundsPerShard = 750

    /// Mutated traces read through the read-ahead thread give what `next()` gives.
    @Test func batchesAgreeWithNext() {
        var mutator = ByteMutator(seed: 0xba7c_0001, tokens: Self.tokens)
        for round in 0..<200 {
            let trace = Self.traces[mutator.below(Self.traces.count)]
            var bytes = trace.bytes
            let kinds = mutator.mutate(&bytes, upTo: 4)
            let one = TraceReader(bytes: bytes, options: .init(fileName: "fuzz.trace"))
            let expected = Array(one)
            let batched = TraceReader(bytes: bytes, options: .init(fileName: "fuzz.trace"))
            var events: [TraceEvent] = []
            batched.forEachBatch(readAhead: true, batchSize: 1 + mutator.below(64)) { events += $0 }
            #expect(events == expected, "round \(round) (\(trace.name): \(kinds))")
            #expect(batched.statistics == one.statistics, "round \(round) (\(trace.name): \(kinds))")
            #expect(batched.diagnostics == one.diagnostics, "round \(round) (\(trace.name): \(kinds))")
        }
    }

    // MARK: - Hostile traces

    @Test func hostileLines() {
        let json = #"{"time": "2026-11-27T10:00:00.000Z", "domid": 5, "op": "write", "path": "/local/domain/5/x", "value": "1"}"#
        let oxenstored = "[20261127T10:00:00.000Z]  D5           write     /local/domain/5/x 1"
        let cxenstored = "io: IN 0x55d1c2a0 (d5) 20261127 10:00:00 WRITE (/local/domain/5/x 1 )"
        let huge = String(repeating: "a", count: 10 << 20)
        var cases: [(String, [UInt8])] = [
            ("a 10 MB line", Array(huge.utf8)),
            ("a 10 MB path", Array(oxenstored.replacingOccurrences(of: "/x", with: "/" + huge).utf8)),
            ("JSON nested 10,000 deep", Array((json.dropLast() + ", \"extra\": " + String(repeating: "[", count: 10_000) + "}").utf8)),
            (
                "JSON objects nested 10,000 deep",
                Array((String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)).utf8)
            ),
            ("NUL bytes", Array((json + "\n" + oxenstored).utf8).flatMap { $0 == UInt8(ascii: "x") ? [0, 0] : [$0] }),
            ("invalid UTF-8", Array(cxenstored.utf8).flatMap { $0 == UInt8(ascii: "x") ? [0xFF, 0xC3] : [$0] }),
            ("huge numbers", Array(json.replacingOccurrences(of: "5,", with: "1" + String(repeating: "0", count: 400) + ",").utf8)),
            ("only line ends", [UInt8](repeating: 0x0A, count: 100_000) + [UInt8](repeating: 0x0D, count: 100_000)),
            ("200,000 bad lines", Array(String(repeating: "[2026 nonsense\n", count: 200_000).utf8)),
        ]
        cases.append(("a line of NULs", [UInt8](repeating: 0, count: 1 << 20)))
        for (what, bytes) in cases {
            for format in [nil] + TraceFormat.allCases {
                let clock = ContinuousClock()
                let reader = TraceReader(bytes: bytes, options: .init(format: format, fileName: "fuzz.trace"))
                let time = clock.measure { while reader.next() != nil {} }
                #expect(time < .seconds(120), "\(what): took \(time)")
                #expect(reader.diagnostics.count <= 1001, "\(what)")
                for diagnostic in reader.diagnostics {
                    #expect(Self.isStableCode(diagnostic.code, severity: diagnostic.severity), "\(what): \(diagnostic.code)")
                }
                let statistics = reader.statistics
                #expect(
                    statistics.lines == statistics.events + statistics.emptyLines + statistics.skippedLines + statistics.malformedLines,
                    "\(what): \(statistics)")
            }
        }
    }
}
