import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax
import Testing

/// Hand-written hostile descriptions: deep nesting, huge tokens, bytes that are not text, long chains
/// of predicates and `extends`, many machines, costly guards, cycles. Each must end in diagnostics with
/// stable codes inside the input, without a crash, a stack overflow or a hang.
@Suite struct HostileProtocolTests {
    /// `body`'s result and how long it took.
    static func timed<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try body()
        return (value, clock.now - start)
    }

    /// Checks `source` as `t.xpd` with the compact library, expecting well-formed diagnostics within `budget`
    /// (a hang guard: a loaded machine is slow; speed is the benchmarks' matter).
    static func hostile(
        _ source: String, budget: Duration = .seconds(10), sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> (definitions: [ProtocolDefinition], diagnostics: [Diagnostic]) {
        let (result, time) = timed { checkWithLibrary(source) }
        #expect(time < budget, "took \(time)", sourceLocation: sourceLocation)
        let lines = [testFile: LineTable(Array(source.utf8)), "xb.xpd": LineTable(Array(xenbusLibrary.utf8))]
        ProtocolFuzzTests.expectWellFormed(result.1, in: lines, "hostile input", sourceLocation: sourceLocation)
        return result
    }

    static func errors(_ diagnostics: [Diagnostic]) -> [String] { diagnostics.filter { $0.severity == .error }.map(brief) }

    // MARK: - Regressions found by the fuzz and hostile tests

    /// `p0 = p1; p1 = p2; ...`: the compiler inlined predicates recursively without a bound, and a
    /// chain of 10,000 overflowed the stack (a segmentation fault in `xen-policy graph`).
    @Test func aLongPredicateChainIsRefusedNotAStackOverflow() throws {
        let count = 10_000
        let chain = (0..<count).map { "  pred p\($0) = p\($0 + 1);" }.joined(separator: "\n")
        let source =
            "protocol p extends xb {\n\(chain)\n  pred p\(count) = fe.state == Connected;\n"
            + "  machine fe.state { Initialising -> Initialised by frontend when p0; }\n}\n"
        // `pred p63 = p64;` is line 65; inlining p64 would be the 65th level.
        let errors = Self.hostile(source).diagnostics.filter { $0.severity == .error }
        let diagnostic = try expectSingle(errors, "E0714", .error, line: 65, column: 14)
        #expect(diagnostic.message == "predicates nest too deeply: 'p64' would be inlined more than 64 deep")
    }

    @Test func aPredicateChainOfSixtyFourLevelsIsFine() {
        let chain = (0..<63).map { "  pred p\($0) = p\($0 + 1);" }.joined(separator: "\n")
        let source =
            "protocol p extends xb {\n\(chain)\n  pred p63 = fe.state == Connected;\n"
            + "  machine fe.state { Initialising -> Initialised by frontend when p0; }\n}\n"
        let (definitions, diagnostics) = Self.hostile(source)
        #expect(Self.errors(diagnostics) == [])
        #expect(definitions.count == 1)
    }
}
