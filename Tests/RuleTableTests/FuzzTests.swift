import PolicyDiagnostics
import ProtocolModel
import RuleTable
import Testing

/// Whatever the bytes, decoding returns a table or error diagnostics, quickly, and never traps.
@Suite struct FuzzTests {
    /// Decodes `bytes`; an accepted table must re-encode to a table that decodes to itself, and dump.
    /// Returns whether it was accepted and how long decoding took.
    @discardableResult
    static func probe(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> (accepted: Bool, time: Duration) {
        let clock = ContinuousClock()
        var result: RuleTableDecoder.Result? = nil
        let time = clock.measure { result = RuleTableDecoder.decodeWithLayout(bytes, file: "fuzz.xsrt") }
        guard let result else { return (false, time) }
        let errors = result.diagnostics.filter { $0.severity == .error }
        if let table = result.table {
            #expect(errors.isEmpty, "\(label())")
            let again = RuleTableEncoder.encode(table)
            #expect(RuleTableDecoder.decode(again, file: "again.xsrt").0 == table, "\(label())")
            if let layout = result.layout {
                let dumper = RuleTableDumper(file: "fuzz.xsrt", layout: layout, table: table)
                _ = dumper.text()
                _ = dumper.json(diagnostics: result.diagnostics).rendered()
            }
            return (true, time)
        }
        #expect(!errors.isEmpty, "\(label()): refused without an error")
        #expect(errors.count <= RuleTableDecoder.errorLimit, "\(label())")
        return (false, time)
    }

    static func smallTable() -> [UInt8] {
        var generator = DefinitionGenerator(seed: 99)
        var table = generator.table(protocols: 2)
        table.policyName = "p"
        table.admissions = [LabelAdmission(protocolIndex: 0, frontendRole: 0, backendRole: 0, pairs: [.init(frontend: "a", backend: "b")])]
        return RuleTableEncoder.encode(table)
    }

    @Test func randomBytes() {
        var generator = DefinitionGenerator(seed: 2024)
        for round in 0..<3000 {
            let count = generator.int(0...400)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if round % 3 == 1, count >= 4 { bytes.replaceSubrange(0..<4, with: RuleTableFormat.magic) }
            if round % 3 == 2, count >= RuleTableFormat.headerSize {
                // A plausible header (magic, the current version, few sections) so decoding gets past it.
                bytes.replaceSubrange(
                    0..<8, with: RuleTableFormat.magic + [UInt8(RuleTableFormat.version), 0, UInt8(generator.int(0...1)), 0])
                bytes.replaceSubrange(16..<20, with: [UInt8(generator.int(0...12)), 0, 0, 0])
                Support.fixHeader(&bytes)
            }
            let (_, time) = Self.probe(bytes, "random round \(round)")
            #expect(time < .seconds(60))  // a hang guard; speed is a benchmark matter
        }
    }

    @Test func everyTruncationIsRefused() throws {
        for bytes in [Self.smallTable(), RuleTableEncoder.encode(try Support.referenceTable())] {
            for length in 0..<bytes.count {
                let (accepted, _) = Self.probe(Array(bytes[0..<length]), "truncated to \(length)")
                #expect(!accepted, "a table truncated to \(length) of \(bytes.count) bytes was accepted")
            }
        }
    }

    @Test func truncatedSectionsBehindAFixedHeader() throws {
        // Shorten the table but patch the length and checksum, so the section bounds catch it.
        let bytes = RuleTableEncoder.encode(try Support.referenceTable())
        for length in stride(from: RuleTableFormat.headerSize, to: bytes.count, by: 7) {
            var cut = Array(bytes[0..<length])
            Support.fixHeader(&cut)
            let (accepted, _) = Self.probe(cut, "cut to \(length)")
            #expect(!accepted)
        }
    }

    @Test func everySingleBitFlipIsCaughtByTheChecksum() throws {
        let bytes = Self.smallTable()
        for bit in 0..<(bytes.count * 8) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let (accepted, _) = Self.probe(flipped, "bit \(bit)")
            #expect(!accepted, "flipping bit \(bit) was not detected")
        }
    }

    @Test func everySingleBitFlipWithTheChecksumFixed() throws {
        // With the checksum recomputed, the structural checks alone must refuse or accept cleanly.
        let bytes = Self.smallTable()
        var slowest = Duration.zero
        for bit in 0..<(bytes.count * 8) {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            Support.fixChecksum(&flipped)
            let result = Self.probe(flipped, "bit \(bit) (checksum fixed)")
            slowest = max(slowest, result.time)
            // (Flips of the checksum field itself are undone by the fix.)
            if bit / 8 < RuleTableFormat.headerSize + 12 * 10, !(12..<16).contains(bit / 8) {
                #expect(!result.accepted, "flipping header or directory bit \(bit) was not detected")
            }
        }
        #expect(slowest < .seconds(60))  // a hang guard; speed is a benchmark matter
    }

    @Test func bitFlipsInTheReferenceTableWithTheChecksumFixed() throws {
        // One bit of every byte (a different bit position from byte to byte), to keep debug runs short;
        // every bit of the smaller generated table is flipped above.
        let bytes = RuleTableEncoder.encode(try Support.referenceTable())
        var slowest = Duration.zero
        for byte in 0..<bytes.count {
            let bit = byte * 8 + (byte * 5) % 8
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            Support.fixChecksum(&flipped)
            let clock = ContinuousClock()
            var decoded: CompiledRuleTable? = nil
            var diagnostics: [Diagnostic] = []
            slowest = max(slowest, clock.measure { (decoded, diagnostics) = RuleTableDecoder.decode(flipped, file: "flip.xsrt") })
            if let decoded {
                #expect(RuleTableDecoder.decode(RuleTableEncoder.encode(decoded), file: "again.xsrt").0 == decoded, "bit \(bit)")
            } else {
                #expect(diagnostics.contains { $0.severity == .error }, "bit \(bit)")
            }
        }
        #expect(slowest < .seconds(60))  // a hang guard; speed is a benchmark matter
    }

    @Test func randomMutationsWithTheChecksumFixed() {
        let bytes = Self.smallTable()
        var generator = DefinitionGenerator(seed: 77)
        for round in 0..<3000 {
            var mutated = bytes
            for _ in 0..<generator.int(1...8) {
                let position = generator.int(RuleTableFormat.headerSize...(bytes.count - 1))
                switch generator.int(0...3) {
                case 0: mutated[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: mutated[position] = 0xFF
                case 2: mutated[position] = 0x80
                default: mutated[position] = 0
                }
            }
            Support.fixChecksum(&mutated)
            Self.probe(mutated, "mutation round \(round)")
        }
    }

    @Test func absurdCountsAreRefusedBeforeAllocating() {
        // A STRINGS section claiming 2^62 strings, and a header claiming 2^32-1 sections.
        let empty = CompiledRuleTable(protocols: [])
        let strings = Support.replacing(.strings, in: empty) { $0 = Support.uleb(1 << 62) + [1, 0x41] }
        #expect(Support.codes(RuleTableDecoder.decode(strings, file: "huge.xsrt").1) == ["E0879"])
        let protocols = Support.replacing(.protocols, in: empty) { $0 = Support.uleb(UInt64(Int.max)) }
        #expect(Support.codes(RuleTableDecoder.decode(protocols, file: "huge.xsrt").1) == ["E0879"])

        var sections = RuleTableEncoder.encode(empty)
        sections.replaceSubrange(16..<20, with: [0xFF, 0xFF, 0xFF, 0xFF])
        Support.fixChecksum(&sections)
        #expect(Support.codes(RuleTableDecoder.decode(sections, file: "sections.xsrt").1) == ["E0875"])
    }
}
