import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import RuleTable
import Testing

/// Helpers shared by the rule table tests.
enum Support {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ProtocolCheckerTests/Fixtures")

    /// The reference `vbd` description (with its `xenbus` library), checked.
    static func referenceProtocols() -> (definitions: [ProtocolDefinition], errors: [String]) {
        let loaded = ProtocolLoader().load([fixtures.appendingPathComponent("vbd.xpd").path])
        let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
        let errors = (loaded.diagnostics + diagnostics).filter { $0.severity == .error }.map {
            "\($0.location): \($0.message) [\($0.code)]"
        }
        return (definitions, errors)
    }

    static func referenceTable() throws -> CompiledRuleTable {
        let (definitions, errors) = referenceProtocols()
        try #require(errors == [])
        return CompiledRuleTable(protocols: definitions)
    }

    /// Rewrites the header's checksum so that a deliberately damaged table gets past it.
    static func fixChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= RuleTableFormat.headerSize else { return }
        let checksum = RuleTableFormat.checksum(bytes)
        for index in 0..<4 { bytes[12 + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(8 * index)) }
    }

    /// Rewrites the header's length and checksum.
    static func fixHeader(_ bytes: inout [UInt8]) {
        guard bytes.count >= RuleTableFormat.headerSize else { return }
        let length = UInt32(bytes.count)
        for index in 0..<4 { bytes[8 + index] = UInt8(truncatingIfNeeded: length >> UInt32(8 * index)) }
        fixChecksum(&bytes)
    }

    static func codes(_ diagnostics: [Diagnostic]) -> [String] { diagnostics.map(\.code.rawValue) }

    /// The section payloads of a well-formed table, by id, in directory order.
    static func sections(of bytes: [UInt8]) -> [(id: UInt32, payload: [UInt8])] {
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
        }
        return (0..<u32(16)).map { index in
            let base = 20 + 12 * index
            return (UInt32(u32(base)), Array(bytes[u32(base + 4)..<(u32(base + 4) + u32(base + 8))]))
        }
    }

    /// A table with these sections, laid out as the encoder does, with a correct length and checksum.
    static func assemble(_ sections: [(id: UInt32, payload: [UInt8])], flags: UInt16 = 0, version: UInt16 = RuleTableFormat.version)
        -> [UInt8]
    {
        func u32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let dataStart = 20 + 12 * sections.count
        var bytes = RuleTableFormat.magic + [UInt8(version & 0xFF), UInt8(version >> 8), UInt8(flags & 0xFF), UInt8(flags >> 8)]
        bytes += u32(0) + u32(0) + u32(sections.count)
        var offset = dataStart
        for section in sections {
            bytes += u32(Int(section.id)) + u32(offset) + u32(section.payload.count)
            offset += section.payload.count
        }
        for section in sections { bytes += section.payload }
        fixHeader(&bytes)
        return bytes
    }

    /// `table`'s bytes with one section's payload replaced.
    static func replacing(_ section: RuleTableFormat.Section, in table: CompiledRuleTable, with change: (inout [UInt8]) -> Void) -> [UInt8]
    {
        let bytes = RuleTableEncoder.encode(table)
        var parts = sections(of: bytes)
        let flags = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        for index in parts.indices where parts[index].id == section.rawValue { change(&parts[index].payload) }
        return assemble(parts, flags: flags)
    }

    /// Unsigned LEB128, as the format writes it.
    static func uleb(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        repeat {
            let low = UInt8(rest & 0x7F)
            rest >>= 7
            out.append(rest == 0 ? low : low | 0x80)
        } while rest != 0
        return out
    }
}

/// Encoding and decoding are inverses, byte for byte, over generated definitions and the reference protocol.
@Suite struct RoundTripTests {
    @Test(arguments: 0..<8)
    func generatedTablesRoundTrip(seed: Int) throws {
        var generator = DefinitionGenerator(seed: UInt64(seed) &* 7919 &+ 1)
        for round in 0..<25 {
            let table = generator.table(protocols: round % 4)
            let bytes = RuleTableEncoder.encode(table)
            let (decoded, diagnostics) = RuleTableDecoder.decode(bytes, file: "generated.xsrt")
            #expect(diagnostics == [], "seed \(seed) round \(round)")
            let again = try #require(decoded, "seed \(seed) round \(round): \(diagnostics.map(\.message))")
            #expect(again == table, "seed \(seed) round \(round)")
            #expect(RuleTableEncoder.encode(again) == bytes, "seed \(seed) round \(round)")
        }
    }

    @Test func referenceProtocolRoundTrips() throws {
        let table = try Support.referenceTable()
        let bytes = RuleTableEncoder.encode(table)
        let (decoded, diagnostics) = RuleTableDecoder.decode(bytes, file: "vbd.xsrt")
        #expect(diagnostics == [])
        let again = try #require(decoded)
        #expect(again == table)
        #expect(RuleTableEncoder.encode(again) == bytes)
        #expect(again.protocols.map(\.name) == ["vbd"])
    }

    @Test func referenceProtocolWithPolicyRoundTrips() throws {
        var table = try Support.referenceTable()
        table.policyName = "example-policy"
        table.admissions = LabelAdmission.compute(for: table.protocols, vmLabels: ["dom0", "guest-a", "guest-b"]) { frontend, backend in
            backend == "dom0" || frontend == backend
        }
        let admission = try #require(table.admissions.first)
        #expect(table.protocols[0].roles[admission.frontendRole].name == "frontend")
        #expect(table.protocols[0].roles[admission.backendRole].name == "backend")
        let bytes = RuleTableEncoder.encode(table)
        #expect(bytes[6] == 1, "the admission flag is set")
        let (decoded, diagnostics) = RuleTableDecoder.decode(bytes, file: "vbd.xsrt")
        #expect(diagnostics == [])
        #expect(decoded == table)
    }

    /// An admission row points at the `labels` lines it comes from (frontend's, then backend's), and
    /// keeps them through the bytes; a row of roles without `labels` lines has none.
    @Test func admissionRowsKeepTheLocationsOfTheirLabelsLines() throws {
        let examples = Support.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/protocols")
        let loaded = ProtocolLoader().load([examples.appendingPathComponent("vbd.xpd").path])
        let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
        #expect((loaded.diagnostics + diagnostics).filter { $0.severity == .error }.map(\.message) == [])
        var unbound = try #require(definitions.first)
        unbound.labels = []
        var table = CompiledRuleTable(protocols: definitions + [unbound], policyName: "xm-test")
        table.admissions = LabelAdmission.compute(for: table.protocols, vmLabels: ["SystemManagement", "green"]) { _, _ in true }
        let bound = try #require(table.admissions.first { $0.protocolIndex == 0 })
        #expect(
            bound.origins.map { "\(($0.file as NSString).lastPathComponent):\($0.line):\($0.column)" } == [
                "vbd.xpd:24:21", "vbd.xpd:23:21",
            ])
        #expect(table.admissions.first { $0.protocolIndex == 1 }?.origins == [])

        let bytes = RuleTableEncoder.encode(table)
        let (decoded, decodeDiagnostics) = RuleTableDecoder.decode(bytes, file: "vbd.xsrt")
        #expect(decodeDiagnostics == [])
        #expect(decoded?.admissions == table.admissions)
        #expect(decoded.map(RuleTableEncoder.encode) == bytes)
        var moved = table
        moved.admissions[0].origins[1].line += 1
        #expect(RuleTableEncoder.encode(moved) != bytes, "the origins are in the bytes")
    }

    @Test func shippedDescriptionsCompileIntoOneTable() throws {
        let directory = Support.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/protocols")
        let paths = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".xpd") }.sorted()
            .map { directory.appendingPathComponent($0).path }
        let loaded = ProtocolLoader().load(paths)
        let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
        #expect((loaded.diagnostics + diagnostics).filter { $0.severity == .error }.map(\.message) == [])
        let table = CompiledRuleTable(protocols: definitions)
        let bytes = RuleTableEncoder.encode(table)
        let (decoded, decodeDiagnostics) = RuleTableDecoder.decode(bytes, file: "examples.xsrt")
        #expect(decodeDiagnostics == [])
        #expect(decoded == table)
        #expect(decoded.map(RuleTableEncoder.encode) == bytes)
        #expect(definitions.count >= 8)
    }

    @Test func encodingIsDeterministic() throws {
        let reference = try Support.referenceTable()
        // Rebuilding the definitions from scratch (new dictionaries, new hash seeds) gives the same bytes.
        let rebuilt = try Support.referenceTable()
        #expect(RuleTableEncoder.encode(reference) == RuleTableEncoder.encode(rebuilt))
        var generator = DefinitionGenerator(seed: 42)
        let table = generator.table(protocols: 3)
        #expect(RuleTableEncoder.encode(table) == RuleTableEncoder.encode(table))
        let copy = CompiledRuleTable(protocols: table.protocols, policyName: table.policyName, admissions: table.admissions)
        #expect(RuleTableEncoder.encode(copy) == RuleTableEncoder.encode(table))
    }

    @Test func emptyTableRoundTrips() throws {
        let table = CompiledRuleTable(protocols: [])
        let bytes = RuleTableEncoder.encode(table)
        #expect(Array(bytes[0..<4]) == Array("XSRT".utf8))
        // The bytes docs/rule-table.md shows ("Example: the empty table").
        let documented: [UInt8] =
            [0x58, 0x53, 0x52, 0x54, 0x03, 0x00, 0x00, 0x00, 0x86, 0x00, 0x00, 0x00, 0xed, 0xce, 0xbd, 0xf5]
            + [0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]
        #expect(bytes.count == 134)
        #expect(Array(bytes[0..<32]) == documented)
        #expect(Array(bytes[128...]) == [0x00, 0x00, 0x01, 0x00, 0x00, 0x00])
        let (decoded, diagnostics) = RuleTableDecoder.decode(bytes, file: "empty.xsrt")
        #expect(diagnostics == [])
        #expect(decoded == table)
    }

    @Test func int128ConstantsRoundTripExactly() throws {
        for value in DefinitionGenerator.integers {
            let program = Program(instructions: [.integer(value)], localCount: 0)
            var generator = DefinitionGenerator(seed: 1)
            var definition = generator.definition(number: 1)
            definition.guarantees = [
                Guarantee(name: "g", kind: .always(program), blame: .writer, origin: Origin(file: "f", line: 1, column: 1))
            ]
            let table = CompiledRuleTable(protocols: [definition])
            let (decoded, diagnostics) = RuleTableDecoder.decode(RuleTableEncoder.encode(table), file: "int.xsrt")
            #expect(diagnostics == [], "\(value)")
            guard case .always(let decodedProgram)? = decoded?.protocols.first?.guarantees.first?.kind else {
                Issue.record("no program for \(value)")
                continue
            }
            #expect(decodedProgram.instructions == [.integer(value)])
        }
    }

    /// The generator reaches every case of every enum the format encodes.
    @Test func generatorCoversEveryCase() {
        var seen: Set<String> = []
        func note(_ program: Program?) {
            for instruction in program?.instructions ?? [] {
                switch instruction {
                case .boolean: seen.insert("boolean")
                case .integer: seen.insert("integer")
                case .string: seen.insert("string")
                case .parameter: seen.insert("parameter")
                case .value: seen.insert("value")
                case .present: seen.insert("present")
                case .number(_, let hasDefault): seen.insert(hasDefault ? "number+default" : "number")
                case .state: seen.insert("state")
                case .seen: seen.insert("seen")
                case .makeSet: seen.insert("makeSet")
                case .member: seen.insert("member")
                case .inRange: seen.insert("inRange")
                case .binary(let operation): seen.insert("binary.\(operation)")
                case .not: seen.insert("not")
                case .powerOfTwo: seen.insert("powerOfTwo")
                case .store: seen.insert("store")
                case .load: seen.insert("load")
                case .jump: seen.insert("jump")
                case .jumpIfFalse: seen.insert("jumpIfFalse")
                case .pop: seen.insert("pop")
                }
            }
        }
        var generator = DefinitionGenerator(seed: 3)
        for round in 0..<10 {
            let table = generator.table(protocols: 3)
            if table.policyName != nil { seen.insert("policy") }
            if !table.admissions.isEmpty { seen.insert("admission") }
            _ = round
            for definition in table.protocols {
                seen.insert("unknownKeys.\(definition.unknownKeys)")
                for role in definition.roles {
                    switch role.principal {
                    case .parameter: seen.insert("principal.parameter")
                    case .privileged: seen.insert(role.aliasOf == nil ? "principal.privileged" : "alias")
                    }
                }
                for directory in definition.directories {
                    if directory.segments.isEmpty { seen.insert("segments.none") }
                    for segment in directory.segments {
                        switch segment {
                        case .literal: seen.insert("segment.literal")
                        case .parameter: seen.insert("segment.parameter")
                        case .alternatives: seen.insert("segment.alternatives")
                        }
                    }
                }
                for key in definition.keys {
                    switch key.type {
                    case .unsigned: seen.insert("type.unsigned")
                    case .string(nil): seen.insert("type.string")
                    case .string: seen.insert("type.pattern")
                    case .literals: seen.insert("type.literals")
                    case .state: seen.insert("type.state")
                    }
                    for part in key.pattern.segments.joined() {
                        if case .index = part { seen.insert("part.index") } else { seen.insert("part.literal") }
                    }
                    for variable in key.indices {
                        note(variable.lower)
                        note(variable.upper)
                    }
                    note(key.condition)
                    if key.phase != nil { seen.insert("phase") }
                }
                for machine in definition.machines {
                    for transition in machine.transitions {
                        note(transition.guardProgram)
                        note(transition.obligation)
                        if transition.from == .all { seen.insert("from.all") }
                    }
                }
                for guarantee in definition.guarantees {
                    switch guarantee.blame {
                    case .writer: seen.insert("blame.writer")
                    case .turn: seen.insert("blame.turn")
                    case .role: seen.insert("blame.role")
                    }
                    switch guarantee.kind {
                    case .never(_, _, let paths, let unless):
                        seen.insert(unless == nil ? "never" : "never.unless")
                        note(unless)
                        for segment in paths.flatMap(\.segments) {
                            switch segment {
                            case .literal: seen.insert("glob.literal")
                            case .any: seen.insert("glob.any")
                            case .anyDepth: seen.insert("glob.anyDepth")
                            }
                        }
                    case .always(let program):
                        seen.insert("always")
                        note(program)
                    }
                }
                for expectation in definition.expectations {
                    note(expectation.condition)
                    note(expectation.trigger)
                }
                if !definition.turns.isEmpty { seen.insert("turns") }
                for turn in definition.turns {
                    note(turn.condition?.program)
                    if turn.condition != nil { seen.insert("turn.condition") }
                }
                if !definition.labels.isEmpty { seen.insert("labels") }
            }
        }
        var expected: Set<String> = [
            "boolean", "integer", "string", "parameter", "value", "present", "number", "number+default", "state", "seen", "makeSet",
            "member", "inRange", "not", "powerOfTwo", "store", "load", "jump", "jumpIfFalse", "pop", "principal.parameter",
            "principal.privileged", "alias", "segments.none", "segment.literal", "segment.parameter", "segment.alternatives",
            "type.unsigned", "type.string", "type.pattern", "type.literals", "type.state", "part.index", "part.literal", "phase",
            "from.all", "blame.writer", "blame.turn", "blame.role", "never", "never.unless", "always", "glob.literal", "glob.any",
            "glob.anyDepth", "turns", "turn.condition", "labels", "policy", "admission",
        ]
        for operation in BinaryOperation.allCases { expected.insert("binary.\(operation)") }
        for policy in UnknownKeyPolicy.allCases { expected.insert("unknownKeys.\(policy)") }
        #expect(expected.subtracting(seen).sorted() == [])
    }
}
