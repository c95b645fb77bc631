import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax
import TestSupport
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
        _ source: String, budget: Duration = .seconds(60), sourceLocation: Testing.SourceLocation = #_sourceLocation
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

    /// A protocol of `count` directories, each with a state machine that can go from any of the
    /// nine states to any other: the product has 9^count global states.
    static func manyMachines(_ count: Int) -> String {
        let states = [
            "Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
        ]
        var lines = [
            "protocol many extends xb {", "  enum XenbusState { \(states.enumerated().map { "\($1) = \($0)" }.joined(separator: ", ")) }",
        ]
        for d in 0..<count {
            lines.append("  dir d\(d) = \"/local/domain/{fe}/device/m\(d)/{devid}\" owner frontend readers backend;")
            lines.append("  key d\(d).state : enum XenbusState init toolstack = Initialising writer frontend;")
            lines.append("  key fe/m\(d) : string init toolstack link d\(d);")
            lines.append("  machine d\(d).state { \(states.map { "* -> \($0) by frontend;" }.joined(separator: " ")) }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Eight machines of nine states: 43 million global states, which the exploration searched
    /// one by one (four took 20 seconds, eight ran for ever). It stops at its bound with W0750.
    @Test func manyMachinesStopTheProductExploration() throws {
        let (definitions, diagnostics) = Self.hostile(Self.manyMachines(8), budget: .seconds(60))
        #expect(Self.errors(diagnostics) == [])
        // The analysis' warnings: only the bound, nothing drawn from a partial search (W0741-W0744).
        let analysis = diagnostics.filter { ["W0741", "W0742", "W0743", "W0744", "W0750"].contains($0.code.rawValue) }
        let bound = try expectSingle(analysis, "W0750", .warning, line: 1, column: 10)
        #expect(bound.message.hasPrefix("the state machines have more than 4096 reachable global states; the exploration stopped"))
        #expect(definitions.first?.turns == [])
    }

    @Test func twoMachinesOfThirtyTwoStatesAreExploredWhole() {
        // The largest product of a split-driver protocol: within the bound, so no W0750.
        let states = (0..<32).map { "S\($0)" }
        let source = """
            protocol big extends xb {
              enum XenbusState { \(states.enumerated().map { "\($1) = \($0)" }.joined(separator: ", ")) }
              key fe.state : enum XenbusState init toolstack = S1 writer frontend;
              key be.state : enum XenbusState init toolstack = S1 writer backend;
              machine fe.state { \(states.map { "* -> \($0) by frontend;" }.joined(separator: " ")) }
              machine be.state { \(states.map { "* -> \($0) by backend;" }.joined(separator: " ")) }
            }

            """
        let (definitions, diagnostics) = Self.hostile(source, budget: .seconds(60))
        #expect(Self.errors(diagnostics) == [])
        #expect(!diagnostics.contains { $0.code == "W0750" }, "\(diagnostics.map(describe))")
        #expect(definitions.first?.turns.count == 32 * 32)
    }

    /// `p12` expands to 2^12 comparisons, evaluated in every global state for every transition (with
    /// `p14` and 18 such guards, 20 seconds of analysis for a 30-line file). The exploration's
    /// evaluations now share one budget.
    @Test func costlyGuardsStopTheProductExploration() throws {
        let states = [
            "Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
        ]
        var lines = [
            "protocol heavy extends xb {",
            "  enum XenbusState { \(states.enumerated().map { "\($1) = \($0)" }.joined(separator: ", ")) }",
            "  pred p0 = fe.state == Initialising || be.state == Connected;",
        ]
        lines += (1...12).map { "  pred p\($0) = p\($0 - 1) && p\($0 - 1);" }
        lines.append("  machine fe.state { \(states.map { "* -> \($0) by frontend when p12;" }.joined(separator: " ")) }")
        lines.append("  machine be.state { \(states.map { "* -> \($0) by backend;" }.joined(separator: " ")) }")
        lines.append("}")
        let (_, diagnostics) = Self.hostile(lines.joined(separator: "\n") + "\n", budget: .seconds(60))
        #expect(Self.errors(diagnostics) == [])
        let bound = try #require(diagnostics.first { $0.code == "W0750" }, "\(diagnostics.map(describe))")
        #expect(bound.message.contains("1000000 steps"))
    }

    @Test func anExtendsChainOfSixtyFiveUnitsIsRefused() throws {
        // p0's chain holds p0 ... p64: one unit too many; p1's holds 64.
        let source = (0..<64).map { "protocol p\($0) extends p\($0 + 1) { }" }.joined(separator: "\n") + "\nprotocol p64 { }\n"
        let (definitions, diagnostics) = checkProtocols([(testFile, source)])
        let diagnostic = try expectSingle(diagnostics, "E0754", .error, line: 1, column: 21)
        #expect(diagnostic.message == "'p0' extends a chain of more than 64 libraries and protocols")
        #expect(definitions.count == 64)
    }

    /// `protocol p0 extends p1 { } ... protocol p2000 { }`: every protocol walked its whole chain,
    /// checking each step against the chain so far, so the check ran for minutes.
    @Test func aLongExtendsChainIsRefused() {
        let count = 2000
        let source = (0..<count).map { "protocol p\($0) extends p\($0 + 1) { }" }.joined(separator: "\n") + "\nprotocol p\(count) { }\n"
        let (result, time) = Self.timed { checkProtocols([(testFile, source)]) }
        #expect(time < .seconds(60), "took \(time)")
        ProtocolFuzzTests.expectWellFormed(result.1, in: [testFile: LineTable(Array(source.utf8))], "extends chain")
        let refused = result.1.filter { $0.code == "E0754" }
        // The protocols whose chain is longer than 64 units: p0 ... p1936, each at its own `extends`.
        #expect(refused.count == count - 63)
        #expect(refused.first.map(brief) == "t.xpd:1:21 error E0754")
        #expect(refused.last.map(brief) == "t.xpd:1937:24 error E0754")
        #expect(result.0.count == 64)
    }

    // MARK: - Nesting

    /// Ten thousand levels of each construct that nests: the parser bounds expressions (E0712)
    /// instead of recursing until the stack runs out.
    @Test(arguments: [
        ("(", ")"), ("{", "}"), ("!(", ")"), ("f(", ")"), ("if 1 then ", " else 0"), ("forall i in [0 .. 1) : ", ""),
        ("1 + (", ")"), ("val(fe/x, ", ")"),
    ])
    func tenThousandLevelsOfNesting(_ open: String, _ close: String) {
        let depth = 10_000
        let nested = String(repeating: open, count: depth) + "fe.state == Connected" + String(repeating: close, count: depth)
        let source =
            "protocol p extends xb {\n  pred deep = \(nested);\n  machine fe.state { Initialising -> Initialised by frontend when deep; }\n}\n"
        let codes = Self.hostile(source).diagnostics.filter { $0.severity == .error }.map(\.code)
        // Once: the predicate is skipped, so the guard that uses it names an unknown predicate.
        #expect(codes.filter { $0 == "E0712" }.count == 1, "\(codes)")
        #expect(codes.first == "E0712", "\(codes)")
    }

    /// Just under the bound, the deepest tree the parser builds goes through every later stage that
    /// walks expressions recursively: compiling, the abstract evaluation, printing the guard.
    @Test func nestingJustUnderTheBoundIsChecked() {
        let depth = 495
        let nested = String(repeating: "!(", count: depth) + "fe.state == Connected" + String(repeating: ")", count: depth)
        let source = "protocol p extends xb {\n  machine fe.state { Initialising -> Initialised by frontend when \(nested); }\n}\n"
        let (definitions, diagnostics) = Self.hostile(source)
        #expect(Self.errors(diagnostics) == [])
        #expect(definitions.first?.machines.first?.transitions.first?.guardProgram != nil)
    }

    // MARK: - Huge tokens and bytes that are not text

    @Test func tenMegabyteIdentifierStringAndNumber() {
        let huge = String(repeating: "a", count: 10 << 20)
        let digits = String(repeating: "9", count: 10 << 20)
        for (what, source) in [
            ("identifier", "protocol p extends xb {\n  role \(huge) = privileged;\n}\n"),
            ("misplaced identifier", "protocol p extends xb {\n  \(huge)\n}\n"),
            ("string", "protocol p extends xb {\n  dir x = \"\(huge)\" owner frontend;\n}\n"),
            ("unterminated string", "protocol p extends xb {\n  dir x = \"\(huge)"),
            ("number", "protocol p extends xb {\n  option unknown_keys = \(digits);\n}\n"),
        ] {
            let (result, time) = Self.timed { checkWithLibrary(source) }
            #expect(time < .seconds(120), "\(what): took \(time)")
            let lines = [testFile: LineTable(Array(source.utf8)), "xb.xpd": LineTable(Array(xenbusLibrary.utf8))]
            ProtocolFuzzTests.expectWellFormed(result.1, in: lines, what)
        }
    }

    @Test func aFileOverTheSizeLimitIsRefusedBeforeParsing() throws {
        try withTemporaryDirectory { directory in
            let path = try write(
                "protocol p { role \(String(repeating: "a", count: 10 << 20)) = privileged; }\n", to: "big.xpd", in: directory)
            let loaded = ProtocolLoader().load([path])
            #expect(loaded.diagnostics.map(\.code) == ["E0002"])
            // The documented file-level location: the whole file, no line.
            #expect(loaded.diagnostics.first?.location == SourceLocation(file: path))
            #expect(loaded.files.isEmpty)
        }
    }

    @Test func nulBytesAndInvalidUTF8() {
        let base = Array("import xenbus;\nprotocol p extends xenbus {\n  role r = privileged;\n  dir x = \"/a/{fe}\" owner r;\n}\n".utf8)
        let insertions: [[UInt8]] = [
            [0x00], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00, 0x00, 0x00], [0x1B, 0x5B],
        ]
        for insertion in insertions {
            for position in 0...base.count {
                var bytes = base
                bytes.insert(contentsOf: insertion, at: position)
                ProtocolFuzzTests.probe(bytes, as: "t.xpd", "\(insertion) at \(position)")
            }
        }
        // Runs of bytes that are not text: one E0702 each (see SyntaxDiagnosticTests).
        let garbage = [UInt8](repeating: 0, count: 20_000) + [UInt8](repeating: 0xFF, count: 20_000)
        ProtocolFuzzTests.probe(garbage, as: "t.xpd", "garbage")
    }

    // MARK: - Many states, cycles

    @Test func thousandsOfStatesAndTransitions() {
        let cases = (0..<5000).map { "S\($0) = \($0)" }.joined(separator: ", ")
        let source =
            "protocol p extends xb {\n  enum XenbusState { \(cases) }\n"
            + "  machine fe.state {\n\((0..<5000).map { "    S\($0 % 32) -> S\(($0 + 1) % 32) by frontend;" }.joined(separator: "\n"))\n  }\n}\n"
        let (_, diagnostics) = Self.hostile(source)
        // Every value outside 0-31 is refused (the key's init value Initialising is no case either).
        #expect(diagnostics.filter { $0.code == "E0726" }.count == 5000 - 32)
    }

    /// One move allowed by 20,000 transitions with different guards: the turn table or-ed their
    /// guards into one condition 20,000 deep and simplifying it overflowed the stack, and the check
    /// of overlapping guards compares pairs, quadratic in the transitions. Now a role with that many
    /// reasons keeps the turn without condition, and the pair check stops at its bound (W0750).
    @Test(arguments: [2_000, 20_000])
    func thousandsOfGuardedTransitionsOfOneMove(_ count: Int) throws {
        let transitions = (0..<count).map { "    Initialising -> Initialised by frontend when fe/x == \"\($0)\";" }
        let source =
            "protocol p extends xb {\n  key fe/x : string writer frontend;\n  machine fe.state {\n"
            + transitions.joined(separator: "\n") + "\n  }\n  machine be.state { Initialising -> InitWait by backend; }\n}\n"
        let (definitions, diagnostics) = Self.hostile(source, budget: .seconds(120))
        #expect(Self.errors(diagnostics) == [])
        #expect(diagnostics.contains { $0.code == "W0750" && $0.message.contains("overlapping guards") })
        let p = try #require(definitions.first)
        if count == 2_000 {
            // Explored whole: the frontend has the turn in (Initialising, *) without a 2,000-way condition.
            #expect(!p.turns.isEmpty)
            #expect(p.turns.allSatisfy { ($0.condition?.text.utf8.count ?? 0) < 1_000 })
        }
    }

    @Test func importCyclesReadEachFileOnce() throws {
        try withTemporaryDirectory { directory in
            let a = try write("import b;\nlibrary la { role r = privileged; }\n", to: "a.xpd", in: directory)
            try write("import a;\nimport b;\nprotocol pb extends la { }\n", to: "b.xpd", in: directory)
            let loaded = ProtocolLoader().load([a])
            #expect(loaded.files.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a.xpd", "b.xpd"])
            #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.map(describe))")
            let checked = ProtocolChecker().checkDetailed(loaded.files)
            #expect(Self.errors(checked.diagnostics) == [])
            #expect(checked.definitions.map(\.name) == ["pb"])
        }
    }

    @Test func extendsCyclesAreRefused() {
        let source = "protocol a extends b { }\nprotocol b extends c { }\nprotocol c extends a { }\nprotocol d extends d { }\n"
        let (definitions, diagnostics) = checkProtocols([(testFile, source)])
        #expect(definitions.isEmpty)
        // Each cycle is reported where it closes: a's at c's `extends a`, and so on.
        #expect(diagnostics.map(brief) == [3, 1, 2, 4].map { "t.xpd:\($0):20 error E0722" })
    }
}
