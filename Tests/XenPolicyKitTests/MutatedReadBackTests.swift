import Foundation
import PolicyDiagnostics
import PolicyEmitter
import PolicyModel
import PolicyTools
import TestSupport
import Testing

/// `inspect` and `decompile` of the conformance corpus with fixed-seed mutations of the blobs'
/// matrices, counts and names, and of the label maps' tables (`LABEL->SSID`, `SSID->TYPE`, `TYPE`,
/// `MAX-`): each run ends with a report, an XML or coded errors, never a trap or a hang.
@Suite struct MutatedReadBackTests {
    static let rows = ReadBackTests.okRows

    static func files(_ row: ConformanceTests.Row) throws -> (blob: [UInt8], map: String) {
        let blob = try ReadBackTests.bytes("\(row.caseName).\(row.target).bin")
        let map = String(decoding: try ReadBackTests.bytes("\(row.caseName).\(row.target).map"), as: UTF8.self)
        return (blob, map)
    }

    /// What `inspect --map` and `decompile` do with `blob` and `map`, in memory; expects every
    /// outcome to be a result or coded errors, within a hang guard.
    static func readBack(
        _ blob: [UInt8], _ map: String, _ label: @autoclosure () -> String, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let clock = ContinuousClock()
        let start = clock.now
        var diagnostics: [Diagnostic] = []
        let decoded = BlobDecoder.decode(blob, file: "m.bin")
        diagnostics += decoded.diagnostics
        let (labels, mapDiagnostics) = MapParser.parse(map, file: "m.map")
        diagnostics += mapDiagnostics
        if let policy = decoded.policy, let header = decoded.header {
            let inspector = BlobInspector(file: "m.bin", header: header, policy: policy, map: labels)
            #expect(!inspector.text().isEmpty, sourceLocation: sourceLocation)
            _ = inspector.json(diagnostics: diagnostics)
            if let labels {
                let (output, decompiled) = Decompiler.decompile(policy, map: labels, file: "m.bin")
                #expect(
                    output != nil || decompiled.contains { $0.severity == .error }, "\(label()): no XML and no error",
                    sourceLocation: sourceLocation)
                diagnostics += decompiled
            }
        } else {
            #expect(decoded.diagnostics.contains { $0.severity == .error }, "\(label())", sourceLocation: sourceLocation)
        }
        for diagnostic in diagnostics {
            let code = diagnostic.code.rawValue
            #expect(
                ["E04", "W04", "E05"].contains(where: code.hasPrefix) && code.count == 5, "\(label()): \(code) \(diagnostic.message)",
                sourceLocation: sourceLocation)
        }
        let time = clock.now - start
        #expect(time < .seconds(10), "\(label()): took \(time)", sourceLocation: sourceLocation)
    }

    @Test(arguments: rows)
    func mutatedMatricesCountsAndNames(_ row: ConformanceTests.Row) throws {
        let (original, map) = try Self.files(row)
        let regions = BlobRegions(original).regions
        guard !regions.isEmpty else { return }
        var mutator = ByteMutator(seed: 0x4ead_0000 + UInt64(original.count), tokens: Self.blobTokens)
        for round in 0..<100 {
            let region = regions[mutator.below(regions.count)]
            var bytes = original
            if region.kind == .matrix, mutator.below(2) == 0 {
                // In place, so that the blob still decodes and its odd values reach the readers.
                for _ in 0..<(1 + mutator.below(4)) {
                    let cell = region.range.lowerBound + 2 * mutator.below(region.range.count / 2)
                    bytes[cell] = UInt8(truncatingIfNeeded: mutator.next())
                    bytes[cell + 1] = UInt8(truncatingIfNeeded: mutator.next())
                }
                Self.readBack(bytes, map, "\(row) round \(round): cells of \(region)")
            } else {
                var part = Array(original[region.range])
                let kinds = mutator.mutate(&part, upTo: 3)
                bytes.replaceSubrange(region.range, with: part)
                Self.readBack(bytes, map, "\(row) round \(round): \(region) \(kinds)")
            }
        }
    }

    /// The map's numbers (ssids, type indices, counts) replaced by edge values, its lines cut,
    /// repeated or mutated at random.
    @Test(arguments: rows)
    func mutatedLabelMapTables(_ row: ConformanceTests.Row) throws {
        let (blob, map) = try Self.files(row)
        let lines = map.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tables = lines.indices.filter { index in
            ["LABEL->SSID", "SSID->TYPE", "TYPE", "MAX-"].contains(where: lines[index].hasPrefix)
        }
        // Xen 3.0.2's NULL policy has no tables.
        guard !tables.isEmpty else { return }
        var mutator = ByteMutator(seed: 0x3a9_0000 + UInt64(map.utf8.count), tokens: Self.mapTokens)
        for round in 0..<100 {
            var mutated = lines
            let index = tables[mutator.below(tables.count)]
            var fields = mutated[index].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            switch mutator.below(4) {
            case 0, 1:
                // A number field (the last, or the third of SSID->TYPE) set to an edge value.
                let field = fields[0] == "SSID->TYPE" && fields.count > 2 ? 2 : fields.count - 1
                fields[field] = Self.numbers[mutator.below(Self.numbers.count)]
                mutated[index] = fields.joined(separator: " ")
            case 2:
                mutated.insert(mutated[index], at: tables[mutator.below(tables.count)])
            default:
                var bytes = Array(mutated[index].utf8)
                _ = mutator.mutate(&bytes, upTo: 2)
                mutated[index] = String(decoding: bytes, as: UTF8.self)
            }
            Self.readBack(blob, mutated.joined(separator: "\n"), "\(row) round \(round): line \(index + 1) '\(mutated[index])'")
        }
    }

    /// `Int(_:radix:)` reads `-1`: a map giving a label ssid -1 made `decompile` trap indexing the
    /// matrix. The parser now refuses signs (E0501), and the decompiler any ssid outside the matrix
    /// of a map built by hand (E0503).
    @Test func aNegativeSsidIsRefusedNotATrap() throws {
        let row = try #require(Self.rows.first { $0.caseName == "mini" && $0.target == .xen41 })
        let (blob, map) = try Self.files(row)
        for (line, signed) in [
            ("LABEL->SSID VM  STE    Blue                 2", "LABEL->SSID VM  STE    Blue                 -1"),
            ("SSID->TYPE CHWALL      00000002 Blue", "SSID->TYPE CHWALL      -2 Blue"),
            ("MAX-STE-TYPES          00000003", "MAX-STE-TYPES          +3"),
        ] {
            #expect(map.contains(line))
            let (parsed, diagnostics) = MapParser.parse(map.replacingOccurrences(of: line, with: signed), file: "m.map")
            #expect(parsed == nil)
            #expect(diagnostics.map(\.code) == ["E0501"], "\(signed)")
        }
        var labels = try #require(MapParser.parse(map, file: "m.map").0)
        let policy = try #require(BlobDecoder.decode(blob, file: "m.bin").policy)
        labels.ste?.entries[1].ssid = -1
        let (output, diagnostics) = Decompiler.decompile(policy, map: labels, file: "m.bin")
        #expect(output == nil)
        #expect(diagnostics.map(\.message) == ["the map gives ssid -1 but the blob has 5 ssids"])
    }

    /// Numbers at the edges of what the map's hexadecimal and decimal fields parse to.
    static let numbers = [
        "-1", "-80000000", "0", "1", "2", "7", "8", "f", "10", "ffff", "10000", "ffffffff", "7fffffffffffffff", "8000000000000000",
        "-8000000000000000", "+1", "x",
    ]

    static let blobTokens: [[UInt8]] = [[0x00, 0x00], [0x00, 0x01], [0xFF, 0xFF], [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF]]

    static let mapTokens: [[UInt8]] = ["-", "ffffffffffffffff", " ", "\t", "VM", "RES", "ANY", "STE", "CHWALL", "__UNLABELED__"].map {
        Array($0.utf8)
    }
}
