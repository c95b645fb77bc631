import ProtocolSyntax
import Testing

@testable import ProtocolChecker

/// The turn table's value reasoning: a row is dropped only when no store can make its condition
/// hold, and every question it cannot settle within its bounds is answered "satisfiable".
@Suite struct ConditionSatisfiabilityTests {
    /// The predicates of a library holding `declarations`.
    static func predicates(_ declarations: String) throws -> [String: PredicateDeclaration] {
        let source = "library l {\n" + declarations + "\n}\n"
        let (file, diagnostics) = Parser.parse(source: Array(source.utf8), file: "test.xpd")
        try #require(diagnostics.isEmpty, "\(diagnostics)")
        var predicates: [String: PredicateDeclaration] = [:]
        for unit in file.units {
            for case .predicate(let predicate) in unit.items { predicates[predicate.name.name] = predicate }
        }
        return predicates
    }

    /// Whether the conjunction of the predicates named `c0`, `c1`, ... of `declarations` is satisfiable.
    static func satisfiable(_ declarations: String, budget: Int = 1_000_000) throws -> Bool {
        let predicates = try predicates(declarations)
        let conjuncts = predicates.keys.filter { $0.hasPrefix("c") }.sorted().map { predicates[$0]!.body }
        return ConditionSatisfiability(predicates: predicates, budget: ProtocolAnalysis.Budget(budget)).satisfiable(conjuncts)
    }

    @Test func aKeyHasOneValue() throws {
        #expect(try !Self.satisfiable(#"pred c0 = be/type == "phy"; pred c1 = be/type == "qdisk";"#))
        #expect(try !Self.satisfiable(#"pred c0 = be/type == "phy" && "qdisk" == be/type;"#))
        #expect(try Self.satisfiable(#"pred c0 = be/type == "phy"; pred c1 = be/type != "qdisk";"#))
        #expect(try Self.satisfiable(#"pred c0 = be/type == "phy"; pred c1 = fe/type == "qdisk";"#))
        #expect(try !Self.satisfiable(#"pred c0 = be/type == "a" || be/type == "b"; pred c1 = be/type == "c";"#))
        #expect(try Self.satisfiable(#"pred c0 = be/type == "a" || be/type == "b"; pred c1 = be/type == "b";"#))
    }

    @Test func aKeyEqualToAStringIsPresent() throws {
        #expect(try !Self.satisfiable(#"pred c0 = be/mode == "w"; pred c1 = absent(be/mode);"#))
        #expect(try !Self.satisfiable(#"pred c0 = be/mode == ""; pred c1 = !present(be/mode);"#))
        #expect(try Self.satisfiable(#"pred c0 = be/mode != "w"; pred c1 = absent(be/mode);"#))
        #expect(try Self.satisfiable(#"pred c0 = be/mode == "w"; pred c1 = present(be/mode);"#))
    }

    /// vbd's row `device_ready && be/type == "phy" && !(present(be/physical-device) || ...)`.
    @Test func predicatesWithoutParametersAreInlined() throws {
        let vbd = #"""
            pred device_ready = be/type == "qdisk" || present(be/physical-device);
            pred c0 = device_ready;
            pred c1 = be/type == "phy" && !(present(be/physical-device) || be/hotplug-status == "error");
            """#
        #expect(try !Self.satisfiable(vbd))
        #expect(try Self.satisfiable(vbd.replacingOccurrences(of: #""phy" &&"#, with: #""qdisk" &&"#)))
    }

    /// Strings are compared as the replay compares them: canonically equivalent ones are one value.
    @Test func canonicallyEquivalentStringsAreOneValue() throws {
        #expect(try Self.satisfiable("pred c0 = be/name == \"\u{E9}\"; pred c1 = be/name == \"e\u{301}\";"))
    }

    /// What the value rules do not touch is left alone, and so is anything past the bounds.
    @Test func whatItCannotSettleIsSatisfiable() throws {
        // A propositional contradiction with no value rule in play: the table's own conjunct check
        // sees those between conjuncts; inside one, the row stays.
        #expect(try Self.satisfiable(#"pred c0 = seen(be.state, Connected) && !seen(be.state, Connected);"#))
        // Index variables and numbers are opaque.
        #expect(try Self.satisfiable(#"pred c0 = val(be/x, 0) == 1; pred c1 = val(be/x, 0) == 2;"#))
        // No budget left.
        #expect(try Self.satisfiable(#"pred c0 = be/type == "phy"; pred c1 = be/type == "qdisk";"#, budget: 0))
        // More atoms than it enumerates.
        let many = (0..<20).map { #"be/k\#($0) == "a""# }.joined(separator: " && ")
        #expect(try Self.satisfiable("pred c0 = \(many) && be/k0 == \"b\";"))
    }
}
