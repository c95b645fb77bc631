import PolicyDiagnostics
import ProtocolChecker
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
}
