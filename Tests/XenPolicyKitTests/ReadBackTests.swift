import Foundation
import PolicyEmitter
import PolicyModel
import PolicyTools
import Testing
import XenPolicyKit

/// Reading outputs back: maps re-render identically, blobs decode and re-encode identically, and
/// decompiled XML compiles back to the same blob.
@Suite struct ReadBackTests {
    static let expected = ConformanceTests.directory.appendingPathComponent("expected")
    static let okRows = ConformanceTests.rows.filter(\.ok)

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: expected.appendingPathComponent(name)))
    }

    @Test(arguments: okRows)
    func mapParsesAndRendersBackIdentically(_ row: ConformanceTests.Row) throws {
        let text = String(decoding: try Self.bytes("\(row.caseName).\(row.target).map"), as: UTF8.self)
        let (map, diagnostics) = MapParser.parse(text, file: "expected.map")
        #expect(diagnostics.isEmpty)
        let parsed = try #require(map)
        #expect(MapWriter.render(parsed) == text)
    }

    @Test(arguments: okRows)
    func blobDecodesAndEncodesBackIdentically(_ row: ConformanceTests.Row) throws {
        let blob = try Self.bytes("\(row.caseName).\(row.target).bin")
        let result = BlobDecoder.decode(blob, file: "expected.bin")
        #expect(result.diagnostics.isEmpty)
        let policy = try #require(result.policy)
        #expect(policy.format == BlobFormat(row.target))
        #expect(BlobEncoder.encode(policy) == blob)
    }

    @Test(arguments: okRows)
    func decompiledPolicyCompilesBackToTheBlob(_ row: ConformanceTests.Row) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-decompile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let blobPath = Self.expected.appendingPathComponent("\(row.caseName).\(row.target).bin").path
        let mapPath = Self.expected.appendingPathComponent("\(row.caseName).\(row.target).map").path
        let xml = scratch.appendingPathComponent("policy.xml").path
        let labels = scratch.appendingPathComponent("labels.xml").path
        let decompiled = BlobPipelines().decompile(
            blobPath: blobPath, mapPath: mapPath, outputPath: xml, labelTemplateOutputPath: row.target == .xen302 ? labels : nil)
        #expect(decompiled.status == .success, "\(decompiled.diagnostics)")
        let out = scratch.appendingPathComponent("again.bin").path
        let outcome = PolicyCompiler().run(
            PolicyCompiler.Request(
                policyPath: xml, labelTemplatePath: row.target == .xen302 ? labels : nil, target: row.target, outputPath: out))
        #expect(outcome.status == .success, "\(outcome.diagnostics)")
        var original = try Self.bytes("\(row.caseName).\(row.target).bin")
        var again = Array(try Data(contentsOf: URL(fileURLWithPath: out)))
        if row.target == .xen41, original.count >= 60, again.count >= 60 {
            // The XML hash digests the original text, which a blob does not carry.
            original.replaceSubrange(40..<60, with: [UInt8](repeating: 0, count: 20))
            again.replaceSubrange(40..<60, with: [UInt8](repeating: 0, count: 20))
        }
        #expect(again == original)
    }

    @Test func inspectWithThePolicyConfirmsTheBlob() throws {
        let cases = ConformanceTests.directory.appendingPathComponent("cases")
        let loaded = BlobPipelines().load(
            blobPath: Self.expected.appendingPathComponent("xen410-test.xen-4.1.bin").path, mapPath: nil,
            policyPath: cases.appendingPathComponent("xen410-test.xml").path)
        #expect(loaded.status == .success)
        #expect(loaded.diagnostics.map(\.code) == ["N0001"])
        let mismatch = BlobPipelines().load(
            blobPath: Self.expected.appendingPathComponent("mini.xen-4.1.bin").path, mapPath: nil,
            policyPath: cases.appendingPathComponent("xen410-test.xml").path)
        #expect(mismatch.diagnostics.map(\.code) == ["W0404"])
    }

    /// Found by the map fuzzer (docs/fuzzing.md): a map whose Chinese Wall section names the bootstrap
    /// VM label differently from its STE section fits the blob's counts and ssids, but the XML it
    /// decompiled to had a bootstrap label without Chinese Wall types (E0115), and `decompile` wrote it
    /// and exited 0. It is refused now, at the map, and nothing is written.
    @Test func mapNamingLabelsInconsistentlyIsRefused() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-decompile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let name = "xen304-chwall_ste-client_v1.xen-3.0.4"
        let map = String(decoding: try Self.bytes("\(name).map"), as: UTF8.self)
        let renamed = map.replacingOccurrences(
            of: "LABEL->SSID VM  CHWALL dom_SystemManagement ", with: "LABEL->SSID VM  CHWALL dom_Other            ")
        #expect(renamed != map)
        let mapPath = scratch.appendingPathComponent("renamed.map").path
        try Data(renamed.utf8).write(to: URL(fileURLWithPath: mapPath))
        let xml = scratch.appendingPathComponent("policy.xml").path
        let decompiled = BlobPipelines().decompile(
            blobPath: Self.expected.appendingPathComponent("\(name).bin").path, mapPath: mapPath, outputPath: xml,
            labelTemplateOutputPath: nil)
        #expect(decompiled.status == .inputError)
        let error = try #require(decompiled.diagnostics.first { $0.severity == .error })
        #expect(error.code == "E0503")
        #expect(error.location.file == mapPath)
        #expect(error.message.contains("E0115"))
        #expect(decompiled.output == nil)
        #expect(!FileManager.default.fileExists(atPath: xml))
    }

    /// A map that leaves out one VM label (in both components) still fits the blob's counts, and the XML
    /// printed from it compiles, to a smaller blob: `decompile` must not write it (found by the map
    /// fuzzer, docs/fuzzing.md). The real map still decompiles.
    @Test func mapLeavingOutALabelIsRefused() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-decompile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let name = "mini.xen-3.2"
        let blob = Self.expected.appendingPathComponent("\(name).bin").path
        let map = String(decoding: try Self.bytes("\(name).map"), as: UTF8.self)
        let partial = map.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !($0.hasPrefix("LABEL->SSID VM ") && $0.contains(" Red ")) }.joined(separator: "\n")
        #expect(partial.count < map.count)
        let mapPath = scratch.appendingPathComponent("partial.map").path
        try Data(partial.utf8).write(to: URL(fileURLWithPath: mapPath))
        let xml = scratch.appendingPathComponent("policy.xml").path
        let decompiled = BlobPipelines().decompile(blobPath: blob, mapPath: mapPath, outputPath: xml, labelTemplateOutputPath: nil)
        #expect(decompiled.status == .inputError)
        let error = try #require(decompiled.diagnostics.first { $0.severity == .error })
        #expect(error.code == "E0503")
        #expect(error.location.file == mapPath)
        #expect(error.message.contains("to a different blob"))
        #expect(!FileManager.default.fileExists(atPath: xml))

        let realMap = scratch.appendingPathComponent("real.map").path
        try Data(map.utf8).write(to: URL(fileURLWithPath: realMap))
        let real = BlobPipelines().decompile(blobPath: blob, mapPath: realMap, outputPath: xml, labelTemplateOutputPath: nil)
        #expect(real.status == .success)
        #expect(FileManager.default.fileExists(atPath: xml))
    }
}
