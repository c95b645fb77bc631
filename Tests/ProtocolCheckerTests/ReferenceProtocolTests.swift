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

    @Test func vbdChecksWithoutErrors() throws {
        let (definitions, diagnostics) = try Self.load()
        #expect(diagnostics.filter { $0.severity == .error }.map(describe) == [])
        let vbd = try #require(definitions.first { $0.name == "vbd" })
        #expect(vbd.roles.map(\.name) == ["frontend", "backend", "toolstack", "hotplug"])
        #expect(vbd.machines.count == 2)
        #expect(vbd.directories.map(\.name) == ["fe", "be"])
        for diagnostic in diagnostics { print(describe(diagnostic)) }
        for turn in vbd.turns { print(vbd.stateName(turn.frontendState), vbd.stateName(turn.backendState), vbd.roleNames(turn.roles)) }
    }
}
