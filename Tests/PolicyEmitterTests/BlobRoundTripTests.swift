import PolicyEmitter
import PolicyModel
import TestSupport
import Testing

/// Encoder and decoder are inverses over every format and over generated policies, and the decoder
/// refuses damaged blobs with a diagnostic instead of crashing.
@Suite struct BlobRoundTripTests {
    /// A deterministic generator, so failures reproduce.
    typealias Generator = SplitMix64

    static func randomPolicy(_ generator: inout Generator, format: BlobFormat) -> BinaryPolicy {
        let chwallTypes = generator.int(0...7)
        let steTypes = generator.int(0...7)
        let chineseWall = PolicyComponent.chineseWall(
            ChineseWallMatrices(
                ssids: generator.matrix(types: chwallTypes, rows: generator.int(1...9)),
                conflictSets: generator.matrix(types: chwallTypes, rows: generator.int(0...3))))
        let ste = PolicyComponent.simpleTypeEnforcement(generator.matrix(types: steTypes, rows: generator.int(1...9)))
        let (primary, secondary): (PolicyComponent, PolicyComponent) =
            switch generator.int(0...4) {
            case 0: (.null, .null)
            case 1: (chineseWall, .null)
            case 2: (ste, .null)
            case 3: (ste, chineseWall)
            default: (chineseWall, ste)
            }
        let name = format.hasPolicyReference ? String(repeating: "p", count: generator.int(0...20)) : nil
        let version =
            format.hasVersion
            ? PolicyVersion(major: UInt32(generator.int(0...99)), minor: UInt32(generator.int(0...99))) : PolicyVersion(major: 0, minor: 0)
        let hash = format == .g4 ? (0..<20).map { _ in UInt8(generator.next() & 0xFF) } : []
        return BinaryPolicy(format: format, policyName: name, version: version, xmlHash: hash, primary: primary, secondary: secondary)
    }

    @Test(arguments: BlobFormat.allCases)
    func decodeInvertsEncode(_ format: BlobFormat) {
        var generator = Generator(state: UInt64(format.headerSize))
        for _ in 0..<200 {
            let policy = Self.randomPolicy(&generator, format: format)
            let bytes = BlobEncoder.encode(policy)
            let decoded = BlobDecoder.decode(bytes, file: "generated.bin")
            #expect(decoded.diagnostics.filter { $0.severity == .error } == [])
            #expect(decoded.policy == policy)
            if let again = decoded.policy { #expect(BlobEncoder.encode(again) == bytes) }
        }
    }

    @Test(arguments: BlobFormat.allCases)
    func truncatedAndCorruptedBlobsAreRefusedCleanly(_ format: BlobFormat) {
        var generator = Generator(state: 7)
        var policy = Self.randomPolicy(&generator, format: format)
        policy.primary = .chineseWall(
            ChineseWallMatrices(ssids: generator.matrix(types: 3, rows: 4), conflictSets: generator.matrix(types: 3, rows: 1)))
        policy.secondary = .simpleTypeEnforcement(generator.matrix(types: 3, rows: 5))
        let bytes = BlobEncoder.encode(policy)
        for length in 0..<bytes.count {
            let result = BlobDecoder.decode(Array(bytes[..<length]), file: "cut.bin")
            #expect(result.policy == nil)
            #expect(result.diagnostics.contains { $0.severity == .error })
        }
        // Flipping any header bit never crashes; it either decodes or yields an error.
        for index in 0..<format.headerSize * 8 {
            var damaged = bytes
            damaged[index / 8] ^= UInt8(1 << (index % 8))
            let result = BlobDecoder.decode(damaged, file: "flipped.bin")
            #expect(result.policy != nil || result.diagnostics.contains { $0.severity == .error })
        }
    }

    @Test func hugeCountsDoNotOverflow() {
        var bytes = BlobEncoder.encode(
            BinaryPolicy(
                format: .g4, policyName: "x", xmlHash: [UInt8](repeating: 0, count: 20),
                primary: .simpleTypeEnforcement(TypeMatrix(types: 1, rows: 1)), secondary: .null))
        // STE max_types and max_ssidrefs of 0xffffffff each: 2*T*S overflows 64 bits.
        let steStart = 76
        for offset in (steStart + 8)..<(steStart + 16) { bytes[offset] = 0xFF }
        let result = BlobDecoder.decode(bytes, file: "huge.bin")
        #expect(result.policy == nil)
        #expect(result.diagnostics.map(\.code).contains("E0408"))
    }

    @Test func xendSTEOnlyBlobIsRefusedWithExplanation() {
        var bytes = BlobEncoder.encode(
            BinaryPolicy(
                format: .g4, policyName: "s", xmlHash: [UInt8](repeating: 0, count: 20),
                primary: .simpleTypeEnforcement(TypeMatrix(types: 1, rows: 2)), secondary: .null))
        bytes[27] = 15  // secondary_policy_code = ACM_POLICY_UNDEFINED, as acmpolicy.py wrote it
        let result = BlobDecoder.decode(bytes, file: "ste-only.bin")
        #expect(result.diagnostics.contains { $0.code == "E0405" && ($0.hint ?? "").contains("xend") })
    }
}

extension SplitMix64 {
    fileprivate mutating func matrix(types: Int, rows: Int) -> TypeMatrix {
        TypeMatrix(types: types, rows: rows, values: (0..<(types * rows)).map { _ in UInt16(next() & 1) })
    }
}
