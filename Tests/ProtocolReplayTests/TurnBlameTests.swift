import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import Testing

/// `blame turn` with turn rows split by key values: which row decides is evaluated on the
/// instance's store when the expectation expires.
@Suite struct TurnBlameTests {
    /// vbd's connect in miniature (`Fixtures/turn-split.xpd`): the backend connects once the hotplug
    /// script (the backend's domain) has published physical-device; one expectation, blaming whoever's
    /// turn it is.
    static let description = packageRoot.appendingPathComponent("Tests/ProtocolReplayTests/Fixtures/turn-split.xpd").path

    static func checked() throws -> ProtocolDefinition {
        let loaded = ProtocolLoader().load([description])
        let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
        #expect((loaded.diagnostics + diagnostics).filter { $0.severity == .error }.map(\.message) == [])
        return try #require(definitions.first)
    }

    /// Both sides past their first step, (Initialised, InitWait), then eleven seconds of silence.
    static func stalled(hotplugPublished: Bool) -> String {
        let f = TraceBuilder.vbdFrontend(5, 51712)
        let b = TraceBuilder.vbdBackend(3, 5, 51712)
        var trace = TraceBuilder()
        trace.createVBD(be: 3)
        trace.write("D3", b + "/state", "2")
        trace.write("D5", f + "/state", "3")
        if hotplugPublished { trace.write("D3", b + "/physical-device", "fd:3") }
        trace.wait(11_000)
        trace.write("D7", "/local/domain/7/data/x", "1")
        return trace.text
    }

    @Test func theTableSplitsTheStalledState() throws {
        let split = try Self.checked()
        let rows = split.turns.filter { $0.frontendState == 3 && $0.backendState == 2 }
        #expect(rows.map { $0.condition?.text } == ["present(be/physical-device)", nil])
        #expect(rows.map { split.roleNames($0.roles) } == [["backend"], ["hotplug"]])
    }

    /// Without physical-device the backend cannot move: the hotplug script owes it.
    @Test func withoutThePhysicalDeviceHotplugIsBlamed() throws {
        let result = replay(Self.stalled(hotplugPublished: false), protocols: [try Self.checked()])
        #expect(result.violations.map { "\($0.role) dom\($0.domid)" } == ["hotplug dom3"])
        #expect(result.violations.first?.rule.hasPrefix("expect be.state == Connected") == true)
        // The report says which row of the turn table decided: here the fallback.
        #expect(result.violations.first?.message.hasSuffix("; the turn in (Initialised, InitWait))") == true)
        #expect(result.findings.filter { $0.severity == .evaluation } == [])
    }

    /// With it, the backend's connect is enabled: its turn.
    @Test func withThePhysicalDeviceTheBackendIsBlamed() throws {
        let result = replay(Self.stalled(hotplugPublished: true), protocols: [try Self.checked()])
        #expect(result.violations.map { "\($0.role) dom\($0.domid)" } == ["backend dom3"])
        #expect(
            result.violations.first?.message.hasSuffix("; the turn in (Initialised, InitWait) when present(be/physical-device))") == true)
    }

    /// A row whose condition cannot be evaluated counts as not holding, reported once as an evaluation finding.
    @Test func aConditionThatCannotBeEvaluatedIsReported() throws {
        var split = try Self.checked()
        let index = try #require(split.turns.firstIndex { $0.condition != nil })
        split.turns[index].condition?.program = Program(instructions: [.integer(1), .integer(0), .binary(.remainder)], localCount: 0)
        let result = replay(Self.stalled(hotplugPublished: true), protocols: [split])
        #expect(result.violations.map(\.role) == ["hotplug"])
        let evaluation = try #require(result.findings.first { $0.severity == .evaluation })
        #expect(
            evaluation.message.hasPrefix(
                "cannot evaluate the condition of turn row (Initialised, InitWait) if present(be/physical-device): "))
    }
}
