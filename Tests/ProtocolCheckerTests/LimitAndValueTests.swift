import PolicyDiagnostics
import Testing

/// Predicates that blow up when inlined, and `init`/`default` values outside their key's type.
@Suite struct LimitAndValueTests {
    /// `p1 = p0 && p0`, `p2 = p1 && p1`, ...: 2^20 copies would hang the compiler; it stops with E0713.
    @Test func e0713ExponentialPredicateInlining() throws {
        var source = "protocol p extends xb {\n  pred p0 = fe.state == Connected;\n"
        for level in 1...20 { source += "  pred p\(level) = p\(level - 1) && p\(level - 1);\n" }
        source += "  guarantee g: always p20 blame writer;\n}\n"
        let started = ContinuousClock.now
        let diagnostic = try expectSingle(diagnose(source), "E0713", .error, line: 23, column: 23)
        #expect(diagnostic.message.contains("too large after inlining"))
        #expect(ContinuousClock.now - started < .seconds(60))  // a hang guard
    }

    @Test func e0747InitialValueOutsideItsType() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key be/mode : "r" | "w" init toolstack = "rw";
                }
                """), "E0747", .error, line: 2, column: 7)
        #expect(diagnostic.message == "initial value 'rw' of 'be/mode' is not a value of its type")
        #expect(diagnose("protocol p extends xb {\n  key be/mode : \"r\" | \"w\" init toolstack = \"r\";\n}\n").isEmpty)
    }

    @Test func e0747DefaultOutsideItsRange() throws {
        try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key be/order : uint [0 .. 8) writer backend default "9";
                }
                """), "E0747", .error, line: 2, column: 7)
    }
}
