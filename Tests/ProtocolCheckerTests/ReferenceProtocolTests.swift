import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import Testing

/// The design's reference descriptions check cleanly and give the expected analysis results.
@Suite struct ReferenceProtocolTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load() throws -> ([ProtocolDefinition], [Diagnostic]) {
        let loaded = ProtocolLoader().load([fixtures.appendingPathComponent("vbd.xpd").path])
        let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
        return (definitions, loaded.diagnostics + diagnostics)
    }

    static func vbd() throws -> ProtocolDefinition {
        try #require(try load().0.first { $0.name == "vbd" })
    }

    @Test func vbdChecksWithoutErrors() throws {
        let (definitions, diagnostics) = try Self.load()
        #expect(diagnostics.filter { $0.severity == .error }.map(describe) == [])
        let vbd = try #require(definitions.first { $0.name == "vbd" })
        #expect(vbd.roles.map(\.name) == ["frontend", "backend", "toolstack", "hotplug"])
        #expect(vbd.machines.count == 2)
        #expect(vbd.directories.map(\.name) == ["fe", "be"])
        #expect(vbd.parameters == ["fe", "be", "devid"])
        #expect(vbd.labels.isEmpty)
        // The only warning: four states the reference description's expectations do not cover.
        #expect(diagnostics.map(\.code) == ["W0744"])
        #expect(
            diagnostics.first?.message
                == "4 reachable state(s) have no liveness expectation: (fe=Initialising, be=Initialised) (fe=Closed, be=Initialised) (fe=Closed, be=Connected) (fe=Initialising, be=Connected)"
        )
    }

    /// The rows of spec §5.6's turn table for vbd that the analysis reproduces (the first row of
    /// each state; `TurnTableTests` has the states physical-device splits).
    @Test(arguments: [
        // (1,1): the backend goes to InitWait (the frontend may skip it only with defaults).
        ("Initialising", "Initialising", ["backend"]),
        // (1,2): the frontend publishes its transport; hotplug writes physical-device in parallel.
        ("Initialising", "InitWait", ["frontend", "hotplug"]),
        // (3,2) and (3,3): the backend connects once physical-device is there (before, hotplug owes it).
        ("Initialised", "InitWait", ["backend"]),
        ("Initialised", "Initialised", ["backend"]),
        // (3,4): the frontend connects.
        ("Initialised", "Connected", ["frontend"]),
        // (5,y) and (6,1), y not Closing/Closed: the backend follows the frontend's teardown.
        ("Closing", "Initialising", ["backend"]),
        ("Closing", "Initialised", ["backend"]),
        ("Closing", "Connected", ["backend"]),
        ("Closed", "Initialising", ["backend"]),
        // (6,5): the backend finishes closing.
        ("Closed", "Closing", ["backend"]),
    ])
    func vbdTurnTable(frontend: String, backend: String, roles: [String]) throws {
        let vbd = try Self.vbd()
        let fe = try #require(vbd.states.first { $0.name == frontend }?.value)
        let be = try #require(vbd.states.first { $0.name == backend }?.value)
        let turn = try #require(vbd.turns.first { $0.frontendState == fe && $0.backendState == be })
        #expect(vbd.roleNames(turn.roles) == roles)
    }

    /// The terminal states have no row.
    @Test func vbdTerminalStatesHaveNoTurn() throws {
        let vbd = try Self.vbd()
        #expect(!vbd.turns.contains { $0.frontendState == 4 && $0.backendState == 4 })
        #expect(!vbd.turns.contains { $0.frontendState == 6 && $0.backendState == 6 })
        #expect(Set(vbd.turns.map { [$0.frontendState, $0.backendState] }).count == 25)
        #expect(vbd.turns.count == 34)
    }
}
