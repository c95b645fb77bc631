import PolicyDiagnostics
import ProtocolChecker
import ProtocolSyntax
import TestSupport
import Testing

/// `ProtocolDiagnosticLimit`: what one run of the front end reports of a flood of diagnostics (N0701).
@Suite struct DiagnosticLimitTests {
    static func error(_ line: Int, file: String = testFile) -> Diagnostic {
        .error("E0710", "error at \(line)", at: SourceLocation(file: file, line: line, column: 1))
    }

    static func warning(_ line: Int, file: String = testFile) -> Diagnostic {
        .warning("W0741", "warning at \(line)", at: SourceLocation(file: file, line: line, column: 1))
    }

    @Test func aRunWithinTheLimitIsUnchanged() {
        let diagnostics = (1...200).reversed().map { Self.error($0) } + [Self.warning(1)]
        #expect(ProtocolDiagnosticLimit.apply(diagnostics, limit: 201) == diagnostics)
        #expect(ProtocolDiagnosticLimit.apply(Array(diagnostics.prefix(200))) == Array(diagnostics.prefix(200)))
    }

    /// The first 200 by location are kept in the order reported, then one note counts the rest and
    /// sits at the last kept one's location, so that it prints last.
    @Test func aFloodKeepsTheFirstTwoHundredAndCountsTheRest() throws {
        // Reported out of print order (the lexer's come before the parser's).
        let diagnostics = (1...1000).reversed().map { Self.error($0) }
        let limited = ProtocolDiagnosticLimit.apply(diagnostics)
        #expect(limited.count == ProtocolDiagnosticLimit.maximum + 1)
        #expect(limited.dropLast().map(\.location.line) == Array((1...200).reversed()))
        let note = try expectSingle(Array(limited.suffix(1)), "N0701", .note, line: 200, column: 1)
        #expect(note.message == "800 more diagnostics (800 errors) were counted but not shown (at most 200 are reported a run)")
    }

    /// Errors are why the input is refused: a flood of warnings before them does not hide them.
    @Test func errorsAreKeptBeforeWarnings() throws {
        let diagnostics = (1...300).map { Self.warning($0) } + [Self.error(1000, file: "z.xpd"), Self.error(999, file: "z.xpd")]
        let limited = ProtocolDiagnosticLimit.apply(diagnostics, limit: 10)
        #expect(limited.filter { $0.severity == .error }.map(\.location.line) == [1000, 999])
        #expect(limited.filter { $0.severity == .warning }.map(\.location.line) == Array(1...8))
        // The last kept in print order is the error at z.xpd:1000.
        let note = try expectSingle(Array(limited.suffix(1)), "N0701", .note, line: 1000, column: 1, file: "z.xpd")
        #expect(note.message == "292 more diagnostics (292 warnings) were counted but not shown (at most 10 are reported a run)")
    }

    @Test func theNoteCountsEachSeverity() throws {
        let diagnostics = (1...5).map { Self.error($0) } + (1...3).map { Self.warning($0) }
        let note = try #require(ProtocolDiagnosticLimit.apply(diagnostics, limit: 4).last)
        #expect(note.code == ProtocolDiagnosticLimit.suppressedCode)
        #expect(note.message == "4 more diagnostics (1 error, 3 warnings) were counted but not shown (at most 4 are reported a run)")
    }

    /// A million diagnostics (what a megabyte of garbage gave) are bounded in one pass.
    @Test func aMillionDiagnosticsAreBoundedQuickly() {
        let diagnostics = (0..<1_000_000).map { Self.error(1 + $0 / 100) }
        let clock = ContinuousClock()
        let start = clock.now
        let limited = ProtocolDiagnosticLimit.apply(diagnostics)
        #expect(clock.now - start < .seconds(60))
        #expect(limited.count == 201)
        #expect(limited.dropLast().map(\.location.line) == (0..<200).map { 1 + $0 / 100 })
    }

    /// What a run reported when it held every diagnostic: the first `limit` by severity, location and
    /// order reported, in the order reported, then the note.
    static func reference(_ diagnostics: [Diagnostic], limit: Int) -> [Diagnostic] {
        guard diagnostics.count > limit else { return diagnostics }
        func rank(_ severity: Severity) -> Int { severity == .error ? 0 : severity == .warning ? 1 : 2 }
        let order = diagnostics.indices.sorted { i, j in
            let (a, b) = (diagnostics[i], diagnostics[j])
            if rank(a.severity) != rank(b.severity) { return rank(a.severity) < rank(b.severity) }
            if a.location != b.location { return a.location < b.location }
            return i < j
        }
        let kept = order.prefix(limit).sorted()
        let keptSet = Set(kept)
        let left = diagnostics.indices.filter { !keptSet.contains($0) }.map { diagnostics[$0].severity }
        let counts = [(Severity.error, "error"), (.warning, "warning"), (.note, "note")].compactMap { severity, word -> String? in
            let n = left.count { $0 == severity }
            return n == 0 ? nil : n == 1 ? "1 \(word)" : "\(n) \(word)s"
        }
        let last = kept.map { diagnostics[$0].location }.max()!
        return kept.map { diagnostics[$0] } + [
            Diagnostic(
                .note, "N0701",
                "\(left.count) more diagnostics (\(counts.joined(separator: ", "))) were counted but not shown "
                    + "(at most \(limit) are reported a run)",
                at: last, hint: "fix the first ones and run again; later ones are often their consequences")
        ]
    }

    /// The run collects its diagnostics in bounded selections, one per stage (lexer, parser, each file,
    /// the checker), and merges them: it reports exactly what holding them all and cutting at the end
    /// did, whatever the sizes of the parts, the severities and the ties in location.
    @Test(arguments: 0..<40)
    func boundedSelectionsReportWhatTheWholeWould(_ seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ 7)
        let limit = [1, 2, 10, 200][seed % 4]
        let count = Int.random(in: 0...(3 * limit + 50), using: &random)
        let severities: [Severity] = [.error, .warning, .note]
        let diagnostics = (0..<count).map { n in
            Diagnostic(
                severities.randomElement(using: &random)!, "E0710", "diagnostic \(n)",
                at: SourceLocation(
                    file: ["a.xpd", "b.xpd"].randomElement(using: &random)!, line: Int.random(in: 1...20, using: &random),
                    column: Int.random(in: 1...3, using: &random)))
        }
        var run = DiagnosticSelection(limit: limit)
        var rest = diagnostics[...]
        while !rest.isEmpty {
            // A part: added to the run one by one, or collected apart (keeping as many or more) and merged.
            let part = rest.prefix(Int.random(in: 1...(limit + 20), using: &random))
            rest = rest.dropFirst(part.count)
            if Bool.random(using: &random) {
                run.append(contentsOf: part)
            } else {
                var selection = DiagnosticSelection(limit: Bool.random(using: &random) ? limit : .max)
                selection.append(contentsOf: part)
                run.append(contentsOf: selection)
            }
        }
        let expected = Self.reference(diagnostics, limit: limit)
        #expect(ProtocolDiagnosticLimit.report(run) == expected)
        #expect(ProtocolDiagnosticLimit.apply(diagnostics, limit: limit) == expected)
        #expect(run.count == count)
        #expect(run.kept.count == min(count, limit))
        #expect(run.hasErrors == diagnostics.contains { $0.severity == .error })
    }

    /// The lexer and the parser keep at most the limit of their diagnostics and count the others,
    /// and what they keep is what the whole would give.
    @Test func theParserKeepsAtMostTheLimit() {
        let source = Array(String(repeating: "@a ", count: 10_000).utf8) + Array("protocol p { key ; key ; }".utf8)
        let bounded = Parser.parse(source: source, file: "t.xpd", diagnosticLimit: 200)
        let (_, all) = Parser.parse(source: source, file: "t.xpd")
        #expect(all.count == 10_000 + 1 + 2)
        #expect(bounded.diagnostics.count == all.count)
        #expect(bounded.diagnostics.kept.count == 200)
        #expect(ProtocolDiagnosticLimit.report(bounded.diagnostics) == ProtocolDiagnosticLimit.apply(all))
    }
}
