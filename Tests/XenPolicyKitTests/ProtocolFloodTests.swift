import Foundation
import PolicyDiagnostics
import ProtocolChecker
import TestSupport
import Testing
import XenPolicyKit

/// A megabyte of junk given as a protocol description (`compile --rules`, `graph`, `replay`): the run
/// reports at most `ProtocolDiagnosticLimit.maximum` diagnostics and a note (N0701) counting the
/// rest. It reported one per stray byte or token: a million, each printed with its source line.
@Suite struct ProtocolFloodTests {
    static let megabyte = 1 << 20

    /// One megabyte of `pattern` repeated.
    static func repeated(_ pattern: String) -> [UInt8] {
        Array([[UInt8]](repeating: Array(pattern.utf8), count: megabyte / pattern.utf8.count + 1).joined().prefix(megabyte))
    }

    static func randomBytes(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<megabyte).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    static let inputs: [(String, [UInt8])] = [
        ("random bytes", randomBytes(seed: 0xf100d)),
        ("'@' repeated", repeated("@")),
        ("'@a ' repeated", repeated("@a ")),
        ("'};' repeated", repeated("};")),
        ("'protocol p { ; }' repeated", repeated("protocol p { ; }\n")),
    ]

    @Test(arguments: inputs.indices)
    func aMegabyteOfJunkEndsInABoundedNumberOfDiagnostics(_ index: Int) throws {
        let (what, bytes) = Self.inputs[index]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-flood-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("junk.xpd").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let clock = ContinuousClock()
        let start = clock.now
        let checked = ProtocolPipeline().check([path])
        // A hang guard (a debug build takes seconds; a loaded machine is slower), not a speed test.
        let time = clock.now - start
        #expect(time < .seconds(120), "\(what): took \(time)")

        #expect(checked.status == .inputError, "\(what)")
        #expect(checked.diagnostics.count <= ProtocolDiagnosticLimit.maximum + 1, "\(what): \(checked.diagnostics.count)")
        #expect(checked.diagnostics.contains { $0.severity == .error }, "\(what)")
        if checked.diagnostics.count > ProtocolDiagnosticLimit.maximum {
            let note = try #require(checked.diagnostics.last)
            #expect(note.code == "N0701", "\(what)")
            #expect(note.severity == .note, "\(what)")
            #expect(checked.diagnostics.dropLast().allSatisfy { $0.code != "N0701" }, "\(what)")
        }
        print("ProtocolFloodTests: \(what): \(checked.diagnostics.count) diagnostics in \(time)")
    }
}
