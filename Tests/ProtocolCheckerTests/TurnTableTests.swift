import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import Testing

/// The turn table's rows split by key values: where the keys decide whose turn it is, a global
/// state has conditional rows, the first that holds deciding, and a row without condition last.
@Suite struct TurnTableTests {
    /// The rows of (fe, be), each as `if CONDITION: roles` or `roles`.
    static func rows(_ definition: ProtocolDefinition, _ fe: String, _ be: String) -> [String] {
        let state = { (name: String) in definition.states.first { $0.name == name }?.value ?? -1 }
        return definition.turns.filter { $0.frontendState == state(fe) && $0.backendState == state(be) }.map { turn in
            let roles = definition.roleNames(turn.roles).joined(separator: ", ")
            return turn.condition.map { "if \($0.text): \(roles)" } ?? roles
        }
    }

    static func shippedVBD() throws -> ProtocolDefinition { try shipped("vbd") }

    static func shipped(_ name: String) throws -> ProtocolDefinition {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("Examples/protocols")
        let loaded = ProtocolLoader(searchPaths: [directory.path]).load([directory.appendingPathComponent("\(name).xpd").path])
        return try #require(ProtocolChecker().check(loaded.files).definitions.first { $0.name == name })
    }

    /// vif's hotplug gate: the expectation's trigger (`be/hotplug-status == ""`) and its unmet
    /// condition (`!(be/hotplug-status != "")`) say the same; the row says it once.
    @Test func conditionsAreSimplified() throws {
        let vif = try Self.shipped("vif")
        #expect(Self.rows(vif, "Initialising", "InitWait").first == #"if be/hotplug-status == "": frontend, hotplug"#)
        let texts = vif.turns.compactMap { $0.condition?.text }
        #expect(!texts.isEmpty)
        #expect(texts.filter { $0.contains("!(") && $0.contains("!=") }.isEmpty, "\(texts)")
    }

    /// Spec §5.6's rows (3,2) and (3,3): the hotplug script's turn while physical-device is absent,
    /// the backend's once it is present.
    @Test func referenceVBDSplitsOnPhysicalDevice() throws {
        let vbd = try ReferenceProtocolTests.vbd()
        #expect(Self.rows(vbd, "Initialised", "InitWait") == ["if present(be/physical-device): backend", "hotplug"])
        #expect(Self.rows(vbd, "Initialised", "Initialised") == ["if present(be/physical-device): backend", "hotplug"])
        // (1,2): the frontend's turn, and the hotplug script's too while it owes physical-device.
        #expect(Self.rows(vbd, "Initialising", "InitWait") == ["if !present(be/physical-device): frontend, hotplug", "frontend"])
        // No key decides here: one row, as before.
        #expect(Self.rows(vbd, "Initialising", "Initialising") == ["backend"])
        #expect(Self.rows(vbd, "Initialised", "Connected") == ["frontend"])
        // Every state's rows end with one without condition: no store leaves the table without an answer.
        for turn in vbd.turns {
            let last = vbd.turns.last { $0.frontendState == turn.frontendState && $0.backendState == turn.backendState }
            #expect(last?.condition == nil)
        }
    }

    /// The shipped vbd: the backend's connect waits for `device_ready` (a qdisk, or the hotplug
    /// script's physical-device), and its expectations say the same. The row for both expectations
    /// at once is left out: `be/type` cannot be "qdisk" and "phy", nor physical-device present and
    /// absent (`ConditionSatisfiability`).
    @Test func shippedVBDSplitsOnDeviceReady() throws {
        let vbd = try Self.shippedVBD()
        let hotplugOwes = "be/type == \"phy\" && !(present(be/physical-device) || be/hotplug-status == \"error\")"
        #expect(
            Self.rows(vbd, "Initialised", "InitWait") == [
                "if device_ready: backend", "if \(hotplugOwes): hotplug", "if seen(be.state, Connected): frontend", "hotplug",
            ])
        #expect(Self.rows(vbd, "Connected", "InitWait") == ["if device_ready: backend", "hotplug"])
        // Past the expectations, the forward move waits on device_ready, which only hotplug can change.
        #expect(
            Self.rows(vbd, "Initialised", "Initialised") == [
                "if device_ready: backend", "if seen(be.state, Connected): frontend", "hotplug",
            ])
    }

    /// Conditions are compiled like guards: the program reads what the text says.
    @Test func conditionsAreCompiledPrograms() throws {
        let vbd = try ReferenceProtocolTests.vbd()
        let row = try #require(vbd.turns.first { $0.condition?.text == "present(be/physical-device)" })
        let be = try #require(vbd.directories.firstIndex { $0.name == "be" })
        #expect(
            row.condition?.program
                == Program(
                    instructions: [.present(KeyPattern(directory: be, segments: [[.literal("physical-device")]]))], localCount: 0))
    }

    /// Guards and expectations that read only the machines' states give one row per state, without condition.
    @Test func withoutKeysEveryStateHasOneRow() throws {
        let (definitions, diagnostics) = checkWithLibrary(AnalysisDiagnosticTests.cleanHandshake)
        #expect(diagnostics.map(describe) == [])
        let p = try #require(definitions.first)
        #expect(p.turns.count == 3)
        #expect(p.turns.allSatisfy { $0.condition == nil })
        #expect(Self.rows(p, "Initialising", "Initialising") == ["frontend, backend"])
    }

    /// `seen(d.state, S)` holds where `d` is in `S`, and `present(d/state)` wherever `d` has a state:
    /// neither splits a row.
    @Test func theTrackedStatesDecideSeenAndTheStateKeys() throws {
        let (definitions, _) = checkWithLibrary(
            """
            protocol p extends xb {
              machine fe.state { Initialising -> Connected by frontend when seen(be.state, Connected); }
              machine be.state { Initialising -> Connected by backend; }
              expect be.state == Connected within 10s after present(be/state) && be.state == Initialising blame backend;
            }
            """)
        let p = try #require(definitions.first)
        #expect(Self.rows(p, "Initialising", "Connected") == ["frontend"])
        #expect(Self.rows(p, "Initialising", "Initialising") == ["backend"])
        // Elsewhere `seen` still depends on the past.
        #expect(Self.rows(p, "Connected", "Initialising") == ["backend"])
    }

    /// A forward move whose guard fails waits on the roles that may write what the guard reads: the
    /// hotplug script's key, or the toolstack's when only it may write it.
    @Test func aBlockedMoveIsTheTurnOfWhoeverMayUnblockIt() throws {
        let (definitions, _) = checkWithLibrary(
            """
            protocol p extends xb {
              key be/device : string writer hotplug;
              key be/config : string init toolstack writer toolstack;
              machine fe.state { Initialising -> Connected by frontend when present(be/config); }
              machine be.state { Initialising -> Connected by backend when present(be/device); }
            }
            """)
        let p = try #require(definitions.first)
        #expect(
            Self.rows(p, "Initialising", "Initialising") == [
                "if present(be/config) && present(be/device): frontend, backend", "if present(be/config): frontend",
                // Both rows before failed, so both guards fail here: no condition is left to ask.
                "if present(be/device): backend", "toolstack, hotplug",
            ])
        #expect(Self.rows(p, "Connected", "Initialising") == ["if present(be/device): backend", "hotplug"])
        #expect(Self.rows(p, "Initialising", "Connected") == ["if present(be/config): frontend", "toolstack"])
    }

    /// A tier with more roles whose reasons depend on keys than the bound gets one row for all of them.
    @Test func manyConditionalRolesShareOneRow() throws {
        let (definitions, _) = checkWithLibrary(
            """
            protocol p extends xb {
              role helper = backend;
              role auditor = privileged;
              key be/a : string writer backend;
              machine fe.state { Initialising -> Connected by frontend; }
              machine be.state { Initialising -> Connected by backend; }
              expect absent(be/a) within 1s after present(be/a) blame frontend;
              expect absent(be/a) within 1s after val(be/a, 0) == 1 blame backend;
              expect absent(be/a) within 1s after val(be/a, 0) == 2 blame hotplug;
              expect absent(be/a) within 1s after val(be/a, 0) == 3 blame toolstack;
              expect absent(be/a) within 1s after val(be/a, 0) == 4 blame helper;
            }
            """)
        let p = try #require(definitions.first)
        let rows = Self.rows(p, "Initialising", "Initialising")
        #expect(rows.count == 2)
        #expect(rows.first?.hasSuffix(": frontend, backend, toolstack, hotplug, helper") == true)
        #expect(rows.last == "frontend, backend")
    }

    /// A state that would need more than 16 rows keeps one row: the first tier's roles, as if every condition held.
    @Test func aStateWithTooManyRowsIsNotSplit() throws {
        let (definitions, _) = checkWithLibrary(
            """
            protocol p extends xb {
              role helper = backend;
              key be/a : string writer backend;
              key be/b : string writer backend;
              machine fe.state { Initialising -> Connected by frontend when present(be/b); }
              machine be.state { Initialising -> Connected by backend; }
              expect absent(be/a) within 1s after val(be/a, 0) == 1 blame frontend;
              expect absent(be/a) within 1s after val(be/a, 0) == 2 blame backend;
              expect absent(be/a) within 1s after val(be/a, 0) == 3 blame hotplug;
              expect absent(be/a) within 1s after val(be/a, 0) == 4 blame helper;
            }
            """)
        let p = try #require(definitions.first)
        // 15 rows for the expectations' four roles, two for the forward moves: one too many.
        #expect(Self.rows(p, "Initialising", "Initialising") == ["frontend, backend, hotplug, helper"])
        // Once the frontend is Connected, the expectations' 15 rows and the backend's fallback fit.
        #expect(Self.rows(p, "Connected", "Initialising").count == 16)
        #expect(Self.rows(p, "Connected", "Initialising").last == "backend")
    }

    @Test func theTableIsDeterministic() throws {
        let first = try Self.shippedVBD()
        let second = try Self.shippedVBD()
        #expect(first.turns == second.turns)
    }
}
