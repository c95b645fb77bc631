import PolicyDiagnostics
import ProtocolModel
import Testing

/// Machines of state-typed keys other than a directory's `state` (`machine be/state-{n}`).
@Suite struct KeyMachineTests {
    static func protocolWith(_ machine: String, writers: String = "toolstack | backend") -> String {
        """
        protocol p extends xb {
          key be/num : u32 init toolstack writer toolstack;
          key be/dev-{n} : string init toolstack writer toolstack for n in [0 .. val(be/num, 0));
          key be/state-{n} : enum XenbusState init toolstack = Initialising writer \(writers) for n in [0 .. val(be/num, 0));
        \(machine)
        }
        """
    }

    @Test func resolvesWithTheKeysIndexBoundInGuards() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            Self.protocolWith(
                """
                  machine be/state-{n} {
                    Initialising -> Initialised by backend when present(be/dev-{n}) && be.state == InitWait;
                    {Initialising, Initialised} -> Closing by toolstack note "detach";
                  }
                """))
        #expect(diagnostics.map(describe) == [])
        let definition = try #require(definitions.first)
        #expect(definition.machines.isEmpty, "a key machine is not part of the global state")
        let machine = try #require(definition.keyMachines.first)
        #expect(definition.keyMachines.count == 1)
        #expect(definition.keys[machine.key].pattern.description == "state-{n}")
        #expect(machine.origin.line == 5)
        #expect(machine.transitions.map(\.to) == [3, 5])
        #expect(machine.transitions[0].from == StateMask([1]))
        #expect(machine.transitions[0].guardProgram?.localCount == 1, "the index variable n is local slot 0")
        #expect(machine.transitions[1].note == "detach")
    }

    @Test func e0752ObligationOnAKeyMachine() throws {
        try expectSingle(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} { Initialising -> Initialised by backend requires present(be/dev-{n}); }
                    """)), "E0752", .error, line: 5, column: 74)
    }

    @Test func w0746TransitionByARoleThatMayNotWriteTheKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} { Initialising -> Initialised by frontend; }
                    """, writers: "toolstack")), "W0746", .warning, line: 5, column: 26)
        #expect(diagnostic.message == "'frontend' may not write 'be/state-{n}', so this transition can never be taken by it")
    }

    /// `hotplug` is an alias of `backend` in the library: writing as either is the same domain.
    @Test func anAliasOfAWriterMayTakeTheTransition() {
        #expect(
            diagnose(Self.protocolWith("  machine be/state-{n} { Initialising -> Initialised by hotplug; }")).map(describe) == [])
    }

    @Test func transitionsOfTwoDeclarationsMerge() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            Self.protocolWith(
                """
                  machine be/state-{n} { Initialising -> Initialised by backend; }
                  machine be/state-{n} { Initialised -> Closing by toolstack; }
                """))
        #expect(diagnostics.map(describe) == [])
        #expect(definitions.first?.keyMachines.map(\.transitions.count) == [2])
    }
}
