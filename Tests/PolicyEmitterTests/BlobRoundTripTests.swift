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

    /// A G4 blob of one STE component, which starts at 68: the 60-byte header, then the name block
    /// (length, "x", NUL) padded to 8.
    static let steOnly = BlobEncoder.encode(
        BinaryPolicy(
            format: .g4, policyName: "x", xmlHash: [UInt8](repeating: 0, count: 20),
            primary: .simpleTypeEnforcement(TypeMatrix(types: 1, rows: 1)), secondary: .null))
    static let steStart = 68

    @Test func hugeCountsDoNotOverflow() {
        // max_types and max_ssidrefs of 0xffffffff each (2*T*S overflows 64 bits): counts no policy has.
        var counts = Self.steOnly
        for offset in (Self.steStart + 8)..<(Self.steStart + 16) { counts[offset] = 0xFF }
        #expect(BlobDecoder.decode(counts, file: "huge.bin").diagnostics.map(\.code) == ["E0409"])
        // The matrix offset 0xffffffff (and the first cells): offset + 2*T*S is past the component.
        var offset = Self.steOnly
        for index in (Self.steStart + 16)..<(Self.steStart + 24) { offset[index] = 0xFF }
        let result = BlobDecoder.decode(offset, file: "huge.bin")
        #expect(result.policy == nil)
        #expect(result.diagnostics.map(\.code).contains("E0408"))
    }

    /// A matrix of no types takes no bytes whatever its rows, nor one of no rows whatever its types:
    /// the size check (E0408) cannot bound them, and a 200-byte blob claiming four billion types made
    /// `inspect` trap allocating their names. Past the 65,536 a policy can have, E0409.
    @Test(arguments: [
        // (types, ssids, decodes)
        (0xFFFF_FFFF, 0, false), (65_537, 0, false), (65_536, 0, true), (0, 0xFFFF_FFFF, false), (0, 65_537, false),
        (0, 65_536, true),
    ])
    func dimensionsBeyondWhatAPolicyCanHaveAreRefused(_ types: Int, _ ssids: Int, _ decodes: Bool) throws {
        var bytes = Self.steOnly
        for (field, value) in [(8, types), (12, ssids)] {
            for index in 0..<4 { bytes[Self.steStart + field + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
        }
        let result = BlobDecoder.decode(bytes, file: "claims.bin")
        if decodes {
            let policy = try #require(result.policy, "\(result.diagnostics)")
            #expect(policy.primary == .simpleTypeEnforcement(TypeMatrix(types: types, rows: ssids)))
        } else {
            #expect(result.policy == nil)
            let diagnostic = try #require(result.diagnostics.first)
            #expect(result.diagnostics.count == 1)
            #expect(diagnostic.code == "E0409")
            let claim = types > 65_536 ? "\(types) types" : "\(ssids) ssids"
            #expect(diagnostic.message == "the primary STE component claims \(claim), more than the 65536 a policy can have")
        }
    }

    /// Conflict sets are bounded like ssids (E0113 in the compiler): in a component of no types their
    /// cells take no bytes, and in one of a type or two so few that a 64 MB blob of 16 million made
    /// `inspect` take 2 GB and `decompile` run out of memory.
    @Test func conflictSetsAreBounded() throws {
        func chineseWall(sets: Int, types: Int) -> [UInt8] {
            var bytes = BlobEncoder.encode(
                BinaryPolicy(
                    format: .g3a, policyName: "x",
                    primary: .chineseWall(
                        ChineseWallMatrices(ssids: TypeMatrix(types: types, rows: 1), conflictSets: TypeMatrix(types: types, rows: 0))),
                    secondary: .null))
            // The component starts at 48 (the 40-byte header, the name block padded to 8); sets at +16.
            for index in 0..<4 { bytes[48 + 16 + index] = UInt8(truncatingIfNeeded: sets >> (24 - 8 * index)) }
            return bytes
        }
        #expect(BlobDecoder.decode(chineseWall(sets: 65_536, types: 0), file: "cw.bin").policy != nil)
        #expect(BlobDecoder.decode(chineseWall(sets: 65_537, types: 0), file: "cw.bin").diagnostics.map(\.code) == ["E0409"])
        // With types too, whether the cells are there or not (E0408 would come next).
        #expect(BlobDecoder.decode(chineseWall(sets: 65_537, types: 1), file: "cw.bin").diagnostics.map(\.code) == ["E0409"])
        func withConflictSets(_ rows: Int) -> [UInt8] {
            BlobEncoder.encode(
                BinaryPolicy(
                    format: .g3a, policyName: "x",
                    primary: .chineseWall(
                        ChineseWallMatrices(ssids: TypeMatrix(types: 1, rows: 1), conflictSets: TypeMatrix(types: 1, rows: rows))),
                    secondary: .null))
        }
        #expect(BlobDecoder.decode(withConflictSets(65_536), file: "cw.bin").policy != nil)
        let refused = BlobDecoder.decode(withConflictSets(65_537), file: "cw.bin")
        #expect(refused.policy == nil)
        #expect(refused.diagnostics.map(\.code) == ["E0409"])
        #expect(
            refused.diagnostics.first?.message
                == "the primary Chinese Wall component claims 65537 conflict sets, more than the 65536 a policy can have")
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
