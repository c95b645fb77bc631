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

    // MARK: - Static analysis

    @Test func w0745DuplicateUnguardedTransitionsOfAKeyMachine() throws {
        let diagnostic = try expectSingle(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend;
                        Initialising -> Initialised by backend;
                      }
                    """)), "W0745", .warning, line: 7, column: 5)
        #expect(diagnostic.message == "duplicate transition to 'Initialised'")
        // Guarded transitions may repeat: the guards tell them apart.
        let guarded = diagnose(
            Self.protocolWith(
                """
                  machine be/state-{n} {
                    Initialising -> Initialised by backend when present(be/dev-{n});
                    Initialising -> Initialised by backend when be.state == InitWait;
                  }
                """))
        #expect(guarded.map(describe) == [])
    }

    @Test func e0742AKeyMachineGuardReadsWhatItsRoleCannotRead() throws {
        let source = { (by: String) in
            Self.protocolWith(
                """
                  dir priv = "/local/domain/{fe}/private/t/{devid}" owner frontend;
                  key priv/ready : "1" writer frontend;
                  machine be/state-{n} { Initialising -> Initialised by \(by) when priv/ready == "1"; }
                """)
        }
        let diagnostics = diagnose(source("backend")).filter { $0.code == "E0742" }
        let diagnostic = try expectSingle(diagnostics, "E0742", .error, line: 7, column: 70)
        #expect(diagnostic.message == "the guard of a transition by 'backend' reads 'priv/ready', which 'backend' cannot read")
        // The privileged toolstack reads everything.
        #expect(diagnose(source("toolstack")).filter { $0.code == "E0742" }.map(describe) == [])
    }

    /// Entries start from the key's `init` value; a state no transition leads to makes the
    /// transitions from it dead.
    @Test func w0741AKeyMachineStateNoEntryReaches() throws {
        let diagnostic = try expectSingle(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend;
                        Closing -> Initialised by backend;
                      }
                    """)), "W0741", .warning, line: 7, column: 5)
        #expect(diagnostic.message == "state 'Closing' of 'be/state-{n}' is never reached")
        #expect(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend;
                        Initialised -> Closing by toolstack;
                        Closing -> Closed by backend;
                      }
                    """)
            ).map(describe) == [])
    }

    /// Without an `init` value an entry may be created in any state, so every state counts as reached.
    @Test func aKeyWithoutAnInitialValueStartsAnywhere() {
        let source = """
            protocol p extends xb {
              key be/num : u32 init toolstack writer toolstack;
              key be/state-{n} : enum XenbusState writer toolstack | backend for n in [0 .. val(be/num, 0));
              machine be/state-{n} { Closing -> Closed by backend; }
            }
            """
        #expect(diagnose(source).map(describe) == [])
    }

    /// Guards are judged against the reachable states of the directory machines: the backend never
    /// gets to Closing here (it closes directly), so no entry is ever attached.
    @Test func keyMachineGuardsFollowTheDirectoryMachines() throws {
        let machines = """
              machine fe.state { Initialising -> Connected by frontend when be.state == Connected; * -> Closed by frontend; }
              machine be.state { Initialising -> Connected by backend; * -> Closed by backend; }
              expect fe.state == Connected within 10s after be.state == Connected && fe.state == Initialising blame frontend;
              expect be.state != Initialising within 10s after be.state == Initialising blame backend;
              expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame frontend;
              expect be.state == Closed within 10s after fe.state == Closed && be.state != Closed blame backend;
            """
        let source = { (state: String) in
            Self.protocolWith(
                machines + "\n"
                    + """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend when be.state == \(state);
                        Initialised -> Closing by toolstack;
                      }
                    """)
        }
        let diagnostic = try expectSingle(diagnose(source("Closing")), "W0741", .warning, line: 13, column: 5)
        #expect(diagnostic.message == "state 'Initialised' of 'be/state-{n}' is never reached")
        #expect(diagnose(source("Connected")).map(describe) == [])
        let definition = try #require(checkWithLibrary(source("Connected")).0.first)
        #expect(definition.machines.count == 2, "the key machine is not among the directory machines")
        #expect(definition.turns.allSatisfy { $0.frontendState != 3 && $0.backendState != 3 })
    }

    @Test func w0748AReachedStateThatCanNeverBecomeClosed() throws {
        let diagnostic = try expectSingle(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend;
                        Initialised -> Closing by toolstack;
                        Initialising -> Closed by toolstack;
                      }
                    """)), "W0748", .warning, line: 5, column: 3)
        #expect(diagnostic.message == "states 'Initialised', 'Closing' of 'be/state-{n}' are reached but can never become Closed")
        // A machine without a transition into Closed does not close its entries (they are removed).
        #expect(
            diagnose(
                Self.protocolWith(
                    """
                      machine be/state-{n} {
                        Initialising -> Initialised by backend;
                        Initialised -> Closing by toolstack;
                      }
                    """)
            ).map(describe) == [])
    }
}
