import Foundation
import PolicyDiagnostics
import PolicyEmitter
import TestSupport
import Testing

/// The conformance corpus's blobs, mutated with fixed seeds inside their matrices, their component
/// counts and offsets, and their policy names (the header is `BlobRoundTripTests`' matter): each
/// mutated blob decodes or is refused with a coded error, in bounded time, and what decodes is
/// bounded as a compiled policy is (no matrix claims more than 65,536 types or rows).
@Suite struct BlobMutationTests {
    /// `Tests/PolicyEmitterTests/<this file>` -> `Tests/XenPolicyKitTests/Conformance/expected`.
    static let corpusDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("XenPolicyKitTests/Conformance/expected")

    /// Every blob of the corpus by file name.
    static let corpus: [(name: String, bytes: [UInt8])] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".bin") }.sorted().map { name in
            (name, (try? Array(Data(contentsOf: corpusDirectory.appendingPathComponent(name)))) ?? [])
        }
    }()

    /// What the mutations write into a u16 cell or a u32 count: edges of the fields and of the blob.
    static let cellValues: [UInt16] = [0, 1, 2, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0xFFFF]
    static let countValues: [UInt32] = [0, 1, 2, 3, 0xFFFF, 0x1_0000, 0x1_0001, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]

    /// The most a decoded component may claim: the compiler's own bounds (E0113), since ssidrefs
    /// and type indices are 16-bit. Past them, a matrix of no types would claim billions of rows
    /// that take no bytes, and `inspect` would print a line for each.
    static let largestDimension = 65_536

    /// Decodes `bytes`, expecting a policy or a refusal with coded errors, and a bounded result.
    @discardableResult
    static func probe(
        _ bytes: [UInt8], _ label: @autoclosure () -> String, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> BlobDecoder.Result {
        let clock = ContinuousClock()
        let start = clock.now
        let result = BlobDecoder.decode(bytes, file: "mutated.bin")
        let time = clock.now - start
        // A hang guard, not a speed test: these blobs decode in microseconds.
        #expect(time < .seconds(10), "\(label()): took \(time)", sourceLocation: sourceLocation)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect((result.policy == nil) == !errors.isEmpty, "\(label())", sourceLocation: sourceLocation)
        for diagnostic in result.diagnostics {
            let code = diagnostic.code.rawValue
            let letter = diagnostic.severity == .error ? "E04" : "W04"
            #expect(
                code.hasPrefix(letter) && code.count == 5 && !diagnostic.message.isEmpty, "\(label()): \(code) \(diagnostic.message)",
                sourceLocation: sourceLocation)
        }
        if let policy = result.policy {
            for matrix in matrices(of: policy) {
                #expect(
                    matrix.types <= largestDimension && matrix.rows <= largestDimension,
                    "\(label()): a \(matrix.rows) x \(matrix.types) matrix", sourceLocation: sourceLocation)
            }
            // What decodes encodes again (inspect and diff re-encode).
            #expect(!BlobEncoder.encode(policy).isEmpty, sourceLocation: sourceLocation)
        }
        return result
    }

    static func matrices(of policy: BinaryPolicy) -> [TypeMatrix] {
        [policy.primary, policy.secondary].flatMap { component -> [TypeMatrix] in
            switch component {
            case .null: []
            case .chineseWall(let matrices): [matrices.ssids, matrices.conflictSets]
            case .simpleTypeEnforcement(let matrix): [matrix]
            }
        }
    }

    static func writeU16(_ value: UInt16, at offset: Int, in bytes: inout [UInt8]) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }

    static func writeU32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
    }

    @Test func theCorpusIsThereAndHasMatrices() {
        #expect(Self.corpus.count >= 27)
        for (name, bytes) in Self.corpus {
            #expect(BlobDecoder.decode(bytes, file: name).diagnostics.isEmpty, "\(name)")
        }
        // Every kind of region is exercised somewhere.
        let regions = Self.corpus.flatMap { BlobRegions($0.bytes).regions }
        #expect(Set(regions.map(\.kind)) == [.matrix, .counts, .policyName])
        #expect(regions.contains { $0.name.contains("conflict sets") })
        #expect(regions.contains { $0.name.contains("STE ssid matrix") })
    }

    /// Any values in the cells: the blob still decodes, to exactly its bytes, with W0402 when a cell
    /// holds something other than 0 or 1 (the hypervisor only tests for non-zero).
    @Test func cellValuesDecodeAndEncodeBack() throws {
        var random = SplitMix64(seed: 0xb10b_0001)
        for (name, original) in Self.corpus {
            let matrices = BlobRegions(original).regions(.matrix)
            guard !matrices.isEmpty else { continue }
            for round in 0..<40 {
                var bytes = original
                for _ in 0..<(1 + random.below(4)) {
                    let region = matrices[random.below(matrices.count)]
                    let cell = region.range.lowerBound + 2 * random.below(region.range.count / 2)
                    let value =
                        random.chance(50) ? Self.cellValues[random.below(Self.cellValues.count)] : UInt16(truncatingIfNeeded: random.next())
                    Self.writeU16(value, at: cell, in: &bytes)
                }
                let label = "\(name) round \(round)"
                let result = Self.probe(bytes, label)
                let policy = try #require(result.policy, "\(label): \(result.diagnostics)")
                #expect(BlobEncoder.encode(policy) == bytes, "\(label)")
                let nonBinary = matrices.contains { region in
                    stride(from: region.range.lowerBound, to: region.range.upperBound, by: 2).contains {
                        bytes[$0] != 0 || bytes[$0 + 1] > 1
                    }
                }
                #expect(result.diagnostics.allSatisfy { $0.code == "W0402" }, "\(label): \(result.diagnostics)")
                #expect(result.diagnostics.contains { $0.code == "W0402" } == nonBinary, "\(label)")
            }
        }
    }

    /// Counts and matrix offsets set to the edges of their fields, one or two at a time.
    @Test func countsAndOffsetsAtTheirEdges() {
        var random = SplitMix64(seed: 0xb10b_0002)
        for (name, original) in Self.corpus {
            let counts = BlobRegions(original).regions(.counts)
            for region in counts {
                for word in stride(from: region.range.lowerBound, to: region.range.upperBound, by: 4) {
                    for value in Self.countValues + [UInt32(original.count), UInt32(original.count / 2)] {
                        var bytes = original
                        Self.writeU32(value, at: word, in: &bytes)
                        Self.probe(bytes, "\(name): \(region.name) byte \(word) = \(value)")
                        // With a second word of the component changed too (types and rows together).
                        let other = region.range.lowerBound + 4 * random.below(region.range.count / 4)
                        Self.writeU32(Self.countValues[random.below(Self.countValues.count)], at: other, in: &bytes)
                        Self.probe(bytes, "\(name): \(region.name) byte \(word) = \(value), byte \(other) too")
                    }
                }
            }
        }
    }

    /// Random mutations (bit flips, byte changes, deleted, duplicated and inserted ranges) aimed at
    /// one region: the matrices, the counts or the policy name.
    @Test(arguments: [BlobRegions.Region.Kind.matrix, .counts, .policyName])
    func randomMutationsOfOneRegion(_ kind: BlobRegions.Region.Kind) {
        var mutator = ByteMutator(seed: 0xb10b_0100 + UInt64(kind.rawValue.utf8.count), tokens: Self.tokens)
        for (name, original) in Self.corpus {
            let regions = BlobRegions(original).regions(kind)
            guard !regions.isEmpty else { continue }
            for round in 0..<60 {
                let region = regions[mutator.below(regions.count)]
                var part = Array(original[region.range])
                let kinds = mutator.mutate(&part, upTo: 3)
                var bytes = original
                bytes.replaceSubrange(region.range, with: part)
                Self.probe(bytes, "\(name) round \(round): \(region) \(kinds)")
            }
        }
    }

    /// What `insertToken` inserts into a region: values at the edges of u16 and u32 fields.
    static let tokens: [[UInt8]] = [
        [0x00, 0x00], [0x00, 0x01], [0xFF, 0xFF], [0x80, 0x00], [0x00, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF],
        [0x00, 0x01, 0x00, 0x00], [0x7F, 0xFF, 0xFF, 0xFF], [0x00], [0xFF], [0xC3], [0xED, 0xA0, 0x80],
    ]
}
