import PolicyDiagnostics
import ProtocolModel
import Testing

/// One test per code of the static analysis (E0740-E0746, W0740-W0745, W0749), and the product
/// exploration: deadlocks, trap states, uncovered and unreachable states, whose turn it is.
@Suite struct AnalysisDiagnosticTests {
    /// Both sides may close; every non-terminal state is covered by an expectation.
    static let cleanHandshake = """
        protocol p extends xb {
          machine fe.state {
            Initialising -> Closed by frontend;
          }
          machine be.state {
            Initialising -> Closed by backend;
          }
          expect fe.state == Closed within 10s after fe.state != Closed blame frontend;
          expect be.state == Closed within 10s after be.state != Closed blame backend;
        }
        """

    static func state(_ definition: ProtocolDefinition, _ name: String) -> Int {
        definition.states.first { $0.name == name }!.value
    }

    /// Whose turn it is in (fe, be), by role names; nil when the state has no row (terminal or unreachable).
    static func turn(_ definition: ProtocolDefinition, _ fe: String, _ be: String) -> [String]? {
        definition.turns.first { $0.frontendState == state(definition, fe) && $0.backendState == state(definition, be) }
            .map { definition.roleNames($0.roles) }
    }

    @Test func aCleanHandshakeHasNoDiagnostics() throws {
        let (definitions, diagnostics) = checkWithLibrary(Self.cleanHandshake)
        #expect(diagnostics.map(describe) == [])
        let p = try #require(definitions.first)
        // Terminal (Closed, Closed) has no row; each side closes its own.
        #expect(p.turns.count == 3)
        #expect(Self.turn(p, "Initialising", "Initialising") == ["frontend", "backend"])
        #expect(Self.turn(p, "Closed", "Initialising") == ["backend"])
        #expect(Self.turn(p, "Initialising", "Closed") == ["frontend"])
        #expect(Self.turn(p, "Closed", "Closed") == nil)
    }

    @Test func e0740TransitionByANonWriter() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend | backend;")
        let diagnostic = try expectSingle(diagnose(source), "E0740", .error, line: 3, column: 5)
        #expect(diagnostic.message == "'backend' takes a transition of 'fe.state' but is not among its writers")
    }

    /// The toolstack initialises the state keys, so it may take their transitions.
    @Test func theInitialiserMayTakeTransitions() {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend | toolstack;")
        #expect(diagnose(source).map(describe) == [])
    }

    @Test func e0741WriterCannotWriteTheDirectory() throws {
        let diagnostics = diagnose(
            """
            protocol p extends xb {
              key fe/n : u32 writer backend;
              key be/n : u32 writer hotplug;
              key fe/m : u32 init toolstack writer frontend;
            }
            """)
        // hotplug is the backend domain, the toolstack is privileged: only the first key is wrong.
        let diagnostic = try expectSingle(diagnostics, "E0741", .error, line: 2, column: 7)
        #expect(diagnostic.message == "role 'backend' cannot write 'fe/n': the directory is owned by 'frontend'")
    }

    @Test func e0742GuardReadsAnUnreadableDirectory() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend when present(priv/secret);"
        ).replacingOccurrences(
            of: "protocol p extends xb {",
            with: """
                protocol p extends xb {
                  dir priv = "/local/domain/0/private/{devid}" owner toolstack;
                  key priv/secret : string init toolstack;
                  key priv/device : string init toolstack link fe;
                """)
        let diagnostic = try expectSingle(diagnose(source), "E0742", .error, line: 6, column: 53)
        #expect(
            diagnostic.message == "the guard of a transition by 'frontend' reads 'priv/secret', which 'frontend' cannot read")
    }

    /// `seen(d.state, S)` reads the state of `d` too.
    @Test func e0742GuardReadsAnUnreadableStateThroughSeen() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend when seen(priv.state, Closed);"
        ).replacingOccurrences(
            of: "protocol p extends xb {",
            with: """
                protocol p extends xb {
                  dir priv = "/local/domain/0/private/{devid}" owner toolstack;
                  key priv.state : enum XenbusState init toolstack = Initialising;
                  key priv/device : string init toolstack link fe;
                """)
        let diagnostic = try expectSingle(diagnose(source), "E0742", .error, line: 6, column: 50)
        #expect(diagnostic.message == "the guard of a transition by 'frontend' reads 'priv/state', which 'frontend' cannot read")
    }

    @Test func e0746OverlappingDirectories() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb { }
                protocol q extends xb {
                  dir fe = "/local/domain/{fe}/device/{t|u}/{devid}" owner frontend readers backend;
                  dir be = "/local/domain/{be}/backend/u/{fe}/{devid}" owner backend readers frontend;
                }
                """), "E0746", .error, line: 3, column: 7)
        #expect(diagnostic.message == "directory 'fe' of 'p' overlaps directory 'fe' of 'q'")
    }

    @Test func w0740ObligationOnAKeyAnotherRoleMayChange() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend requires present(be/size);"
        ).replacingOccurrences(of: "protocol p extends xb {", with: "protocol p extends xb {\n  key be/size : u32 writer backend;")
        let diagnostic = try expectSingle(diagnose(source), "W0740", .warning, line: 4, column: 57)
        #expect(
            diagnostic.message
                == "the obligation of a transition by 'frontend' mentions 'be/size', which another role may change at any time")
        // Frozen by a phase: fine.
        #expect(diagnose(source.replacingOccurrences(of: "writer backend;", with: "writer backend phase {Initialising};")).isEmpty)
    }

    @Test func w0741UnreachableState() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by frontend;", with: "Initialising -> Closed by frontend;\n    Closing -> Closed by frontend;")
        let diagnostic = try expectSingle(diagnose(source), "W0741", .warning, line: 4, column: 5)
        #expect(diagnostic.message == "state 'Closing' of 'fe.state' is never reached")
    }

    @Test func w0742TrapStates() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              machine fe.state { Initialising -> Connected by frontend; }
              machine be.state { Initialising -> Connected by backend; }
              expect fe.state == Connected within 10s after fe.state != Connected blame frontend;
              expect be.state == Connected within 10s after be.state != Connected blame backend;
            }
            """)
        let diagnostic = try expectSingle(diagnostics, "W0742", .warning, line: 1, column: 10)
        #expect(
            diagnostic.message
                == "4 reachable state(s) from which Closed cannot be reached: (fe=Initialising, be=Initialising) (fe=Connected, be=Initialising) (fe=Initialising, be=Connected) (fe=Connected, be=Connected)"
        )
        // (Connected, Connected) is terminal: no turn row.
        #expect(definitions.first?.turns.count == 3)
    }

    @Test func w0743Deadlock() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              machine fe.state {
                Initialising -> Connected by frontend when be.state == Connected;
                Initialising -> Closed by frontend when be.state == Closed;
              }
              machine be.state {
                Initialising -> Connected by backend when fe.state == Connected;
                * -> Closed by toolstack;
              }
              expect be.state == Connected within 10s after be.state == Initialising blame backend;
              expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame frontend;
            }
            """)
        let diagnostic = try expectSingle(diagnostics, "W0743", .warning, line: 1, column: 10)
        #expect(
            diagnostic.message == "1 reachable state(s) where only the toolstack can act: (fe=Initialising, be=Initialising)")
        // The expectation armed there names whose turn it is, even though only the toolstack can move.
        let p = try #require(definitions.first)
        #expect(Self.turn(p, "Initialising", "Initialising") == ["backend"])
        #expect(Self.turn(p, "Initialising", "Closed") == ["frontend"])
    }

    /// Without an expectation, the toolstack's turn comes last, when nobody else can act.
    @Test func theToolstackHasTheTurnOnlyWhenNobodyElseCanAct() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              machine fe.state {
                Initialising -> Closed by frontend when be.state == Closed;
              }
              machine be.state {
                * -> Closed by toolstack;
              }
            }
            """)
        #expect(diagnostics.map(\.code) == ["W0743", "W0744"])
        let p = try #require(definitions.first)
        #expect(Self.turn(p, "Initialising", "Initialising") == ["toolstack"])
        #expect(Self.turn(p, "Initialising", "Closed") == ["frontend"])
    }

    @Test func w0744UncoveredState() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "  expect be.state == Closed within 10s after be.state != Closed blame backend;\n", with: "")
        let (definitions, diagnostics) = checkWithLibrary(source)
        let diagnostic = try expectSingle(diagnostics, "W0744", .warning, line: 1, column: 10)
        #expect(diagnostic.message == "1 reachable state(s) have no liveness expectation: (fe=Closed, be=Initialising)")
        // Without an expectation, the role that can move forward or tear down has the turn.
        #expect(definitions.first.map { Self.turn($0, "Closed", "Initialising") } == ["backend"])
    }

    /// The same move twice with guards that may hold together and different obligations: the
    /// checker takes the first, so the second's obligation is never checked there.
    @Test func w0749OverlappingGuardsWithDifferentObligations() throws {
        let overlapping = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;",
            with:
                "Initialising -> Closed by backend;\n    Initialising -> Closed by backend when be/online == \"0\" requires present(be/frontend);"
        )
        let diagnostic = try expectSingle(diagnose(overlapping), "W0749", .warning, line: 7, column: 5)
        #expect(
            diagnostic.message
                == "this transition and the one at line 6 both allow be.state Initialising -> Closed with guards that may hold together, but require different things: the checker takes the first and never checks this one's obligation there"
        )
        // Guards that exclude each other by the states: never both enabled.
        let exclusive = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;",
            with: "Initialising -> Closed by backend when fe.state == Closed;\n"
                + "    Initialising -> Closed by backend when fe.state != Closed requires present(be/frontend);")
        #expect(diagnose(exclusive).filter { $0.code == "W0749" }.isEmpty)
        // The same obligation: redundant, not ambiguous.
        let same = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;",
            with: "Initialising -> Closed by backend requires present(be/frontend);\n"
                + "    Initialising -> Closed by backend when be/online == \"0\" requires present(be/frontend);")
        #expect(diagnose(same).filter { $0.code == "W0749" }.isEmpty)
        // Other roles: each takes its own.
        let otherRole = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;",
            with: "Initialising -> Closed by backend;\n    Initialising -> Closed by toolstack requires present(be/frontend);")
        #expect(diagnose(otherRole).filter { $0.code == "W0749" }.isEmpty)
    }

    @Test func w0745DuplicateTransition() throws {
        let source = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;", with: "Initialising -> Closed by backend;\n    Initialising -> Closed by backend;")
        let diagnostic = try expectSingle(diagnose(source), "W0745", .warning, line: 7, column: 5)
        #expect(diagnostic.message == "duplicate transition to 'Closed'")
        // A guarded copy is not a duplicate.
        let guarded = Self.cleanHandshake.replacingOccurrences(
            of: "Initialising -> Closed by backend;",
            with: "Initialising -> Closed by backend;\n    Initialising -> Closed by backend when be/online == \"0\";")
        #expect(diagnose(guarded).isEmpty)
    }
}
