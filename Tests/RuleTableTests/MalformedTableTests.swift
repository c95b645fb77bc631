import PolicyDiagnostics
import ProtocolModel
import Testing

@testable import RuleTable

/// Each malformation is refused with its documented code (docs/diagnostics.md, "Rule tables").
@Suite struct MalformedTableTests {
    static let origin = Origin(file: "t.xpd", line: 1, column: 1)

    /// A small valid protocol to damage: two roles, states 0-6, two directories, one state key.
    static func protocolDefinition(
        programs: [Program] = [], roles: [Role]? = nil, machines: [Machine]? = nil, turns: [Turn] = []
    ) -> ProtocolDefinition {
        let states = (0...6).map { State(name: "S\($0)", value: $0) }
        let directories = [
            Directory(
                name: "fe",
                segments: [.literal("local"), .literal("domain"), .parameter(0), .literal("device"), .literal("x"), .parameter(1)],
                owner: 0, readers: [1], origin: origin),
            Directory(
                name: "be",
                segments: [
                    .literal("local"), .literal("domain"), .parameter(2), .literal("backend"), .alternatives(["x", "y"]), .parameter(0),
                    .parameter(1),
                ], owner: 1, readers: [0], origin: origin),
        ]
        let key = Key(
            pattern: KeyPattern(directory: 0, segments: [[.literal("state")]]), isState: true, type: .state, initializers: RoleMask([1]),
            initialValue: "1", writers: RoleMask([0]), phase: nil, indices: [], condition: nil, defaultValue: nil, deprecated: false,
            origin: origin)
        let guarantees = programs.enumerated().map {
            Guarantee(name: "g\($0.offset)", kind: .always($0.element), blame: .writer, origin: origin)
        }
        return ProtocolDefinition(
            name: "x", origin: origin, parameters: ["fe", "devid", "be"],
            roles: roles ?? [Role(name: "frontend", principal: .parameter(0)), Role(name: "backend", principal: .parameter(2))],
            states: states, directories: directories, keys: [key],
            machines: machines ?? [
                Machine(
                    directory: 0, key: 0,
                    transitions: [
                        Transition(
                            from: StateMask([1]), to: 3, by: RoleMask([0]), guardProgram: nil, obligation: nil, note: nil, origin: origin)
                    ], origin: origin)
            ],
            guarantees: guarantees, expectations: [], unknownKeys: .audit, labels: [], turns: turns)
    }

    static func decode(_ bytes: [UInt8]) -> (CompiledRuleTable?, [String]) {
        let (table, diagnostics) = RuleTableDecoder.decode(bytes, file: "bad.xsrt")
        for diagnostic in diagnostics { #expect(diagnostic.location == SourceLocation(file: "bad.xsrt")) }
        return (table, Support.codes(diagnostics))
    }

    static func codes(of table: CompiledRuleTable) -> [String] { decode(RuleTableEncoder.encode(table)).1 }

    static func codes(of program: Program) -> [String] {
        codes(of: CompiledRuleTable(protocols: [protocolDefinition(programs: [program])]))
    }

    static var valid: [UInt8] { RuleTableEncoder.encode(CompiledRuleTable(protocols: [protocolDefinition()])) }

    @Test func theBaseTableIsValid() {
        let (table, codes) = Self.decode(Self.valid)
        #expect(codes == [])
        #expect(table != nil)
    }

    // MARK: - Header and directory

    @Test func header() {
        #expect(Self.decode(Array("<?xml version".utf8)).1 == ["E0871"])
        #expect(Self.decode([0x00, 0x01, 0xde, 0xbc, 0, 0, 0, 4]).1 == ["E0871"])
        #expect(Self.decode(Array("XSRT".utf8) + [1, 0]).1 == ["E0870"])
        #expect(Self.decode([0x58]).1 == ["E0870"])
        #expect(Self.decode([]).1 == ["E0870"])
        var longer = Self.valid + [0]
        Support.fixChecksum(&longer)
        #expect(Self.decode(longer).1 == ["E0870"])

        var version = Self.valid
        version[4] = 4
        Support.fixChecksum(&version)
        #expect(Self.decode(version).1 == ["E0872"])
        // Tables of the previous formats (version 1: no origins for machines and labels; version 2: none
        // for admission rows, and turn rows without conditions) are refused, not misread.
        for previous: UInt8 in [1, 2] {
            version[4] = previous
            Support.fixChecksum(&version)
            let (table, codes) = Self.decode(version)
            #expect(codes == ["E0872"])
            #expect(table == nil)
        }

        var flags = Self.valid
        flags[7] = 0x80
        Support.fixChecksum(&flags)
        #expect(Self.decode(flags).1 == ["E0873"])
        var admission = Self.valid
        admission[6] = 1
        Support.fixChecksum(&admission)
        #expect(Self.decode(admission).1 == ["E0873"])

        var checksum = Self.valid
        checksum[checksum.count - 1] ^= 0x10
        #expect(Self.decode(checksum).1 == ["E0874"])
    }

    @Test func sectionDirectory() {
        let parts = Support.sections(of: Self.valid)
        // Overlapping: the second section starts inside the first.
        var overlapping = Self.valid
        let firstOffset = Array(overlapping[24..<28])
        overlapping.replaceSubrange(36..<40, with: firstOffset)
        Support.fixChecksum(&overlapping)
        #expect(Self.decode(overlapping).1 == ["E0875"])
        // Out of bounds.
        var outside = Self.valid
        outside.replaceSubrange(28..<32, with: [0xFF, 0xFF, 0, 0])
        Support.fixChecksum(&outside)
        #expect(Self.decode(outside).1 == ["E0875"])
        // Offset inside the header or directory.
        var inHeader = Self.valid
        inHeader.replaceSubrange(24..<28, with: [4, 0, 0, 0])
        Support.fixChecksum(&inHeader)
        #expect(Self.decode(inHeader).1 == ["E0875"])
        // Duplicate id.
        var duplicate = parts
        duplicate[1].id = duplicate[0].id
        #expect(Self.decode(Support.assemble(duplicate)).1 == ["E0875"])
        // Missing required section.
        #expect(Self.decode(Support.assemble(parts.filter { $0.id != RuleTableFormat.Section.code.rawValue })).1 == ["E0876"])
        // An unknown section is skipped with a warning; gaps between sections are allowed.
        let (table, codes) = Self.decode(Support.assemble(parts + [(id: 200, payload: [1, 2, 3])]))
        #expect(codes == ["W0870"])
        #expect(table != nil)
    }

    @Test func sectionContents() {
        let table = CompiledRuleTable(protocols: [Self.protocolDefinition()])
        // Trailing bytes after a section's content.
        #expect(Self.decode(Support.replacing(.turns, in: table) { $0.append(0) }).1 == ["E0877"])
        // A section that ends in the middle of a row.
        #expect(Self.decode(Support.replacing(.keys, in: table) { $0.removeLast() }).1 == ["E0877"])
        // A number not in shortest form: the protocol count 1 written as 0x81 0x00.
        #expect(Self.decode(Support.replacing(.protocols, in: table) { $0.replaceSubrange(0..<1, with: [0x81, 0x00]) }).1 == ["E0878"])
        // A number too large for 63 bits.
        #expect(
            Self.decode(
                Support.replacing(.protocols, in: table) { $0.replaceSubrange(0..<1, with: [UInt8](repeating: 0xFF, count: 9) + [1]) }
            ).1
                == ["E0878"])
        // Invalid UTF-8 in the string table.
        #expect(Self.decode(Support.replacing(.strings, in: table) { $0.replaceSubrange(1..<3, with: [1, 0xC3]) }).1.contains("E0880"))
        // A string index out of range: the protocol's name.
        #expect(Self.decode(Support.replacing(.protocols, in: table) { $0[1] = 0x7F }).1 == ["E0880"])
        // An invalid segment tag: give the first directory 45 segments, a count no other field has.
        var long = Self.protocolDefinition()
        long.directories[0].segments = Array(repeating: .literal("a"), count: 45)
        let segmentTag = Support.replacing(.protocols, in: CompiledRuleTable(protocols: [long])) { payload in
            let index = payload.firstIndex(of: 45)!
            #expect(payload[index + 1] == 0, "a literal segment's tag")
            payload[index + 1] = 9
        }
        #expect(Self.decode(segmentTag).1 == ["E0882"])
        // More variable segments than the replay keeps for a directory.
        var wide = Self.protocolDefinition()
        wide.directories[0].segments = Array(repeating: .alternatives(["a", "b"]), count: Directory.maximumVariableSegments + 1)
        #expect(Self.codes(of: CompiledRuleTable(protocols: [wide])) == ["E0889"])
        wide.directories[0].segments.removeLast()
        #expect(Self.codes(of: CompiledRuleTable(protocols: [wide])) == [])
    }

    // MARK: - Bytecode

    @Test func opcodes() {
        let table = CompiledRuleTable(protocols: [
            Self.protocolDefinition(programs: [Program(instructions: [.boolean(true)], localCount: 0)])
        ])
        for opcode: UInt8 in [0x00, 0x16, 0x1F, 0x2B, 0xFF] {
            // CODE: count 1, locals 0, max stack 1, 1 instruction, opcode.
            #expect(Self.decode(Support.replacing(.code, in: table) { $0 = [1, 0, 1, 1, opcode] }).1 == ["E0883"], "opcode \(opcode)")
        }
        #expect(Self.decode(Support.replacing(.code, in: table) { $0 = [1, 0, 1, 1, 0x02] }).1 == [])
        // A declared stack depth that differs from the real one.
        #expect(Self.decode(Support.replacing(.code, in: table) { $0 = [1, 0, 2, 1, 0x02] }).1 == ["E0885"])
        // A program index out of range.
        #expect(Self.decode(Support.replacing(.code, in: table) { $0 = [0] }).1 == ["E0881"])
    }

    @Test func jumpTargets() {
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .jump(3)], localCount: 0)) == ["E0884"])
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .jumpIfFalse(99)], localCount: 0)) == ["E0884"])
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .jump(2)], localCount: 0)) == [], "jumping to the end is allowed")
    }

    @Test func stackHeights() {
        // Underflow.
        #expect(Self.codes(of: Program(instructions: [.binary(.add)], localCount: 0)) == ["E0885"])
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .makeSet(count: 2)], localCount: 0)) == ["E0885"])
        #expect(Self.codes(of: Program(instructions: [.pop], localCount: 0)) == ["E0885"])
        // Not exactly one value at the end.
        #expect(Self.codes(of: Program(instructions: [], localCount: 0)) == ["E0885"])
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .boolean(false)], localCount: 0)) == ["E0885"])
        // Paths that join with different heights: `if c then (1, 2) else 3`.
        let unbalanced: [Instruction] = [.boolean(true), .jumpIfFalse(5), .integer(1), .integer(2), .jump(6), .integer(3)]
        #expect(Self.codes(of: Program(instructions: unbalanced, localCount: 0)) == ["E0885"])
        // A loop that grows the stack.
        #expect(Self.codes(of: Program(instructions: [.integer(1), .jump(0)], localCount: 0)) == ["E0885"])
        // Never reaching the end.
        #expect(Self.codes(of: Program(instructions: [.jump(0)], localCount: 0)) == ["E0885"])
        // Unreachable code is allowed, as long as its operands are valid.
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .jump(3), .pop], localCount: 0)) == [])
    }

    @Test func localSlots() {
        #expect(Self.codes(of: Program(instructions: [.load(slot: 1)], localCount: 1)) == ["E0886"])
        #expect(Self.codes(of: Program(instructions: [.boolean(true), .store(slot: 0), .boolean(true)], localCount: 0)) == ["E0886"])
        let pattern = KeyPattern(directory: 0, segments: [[.literal("ring-ref"), .index(slot: 2, name: "i")]])
        #expect(Self.codes(of: Program(instructions: [.present(pattern)], localCount: 2)) == ["E0886"])
        #expect(Self.codes(of: Program(instructions: [.present(pattern)], localCount: 3)) == [])
    }

    @Test func operandIndices() {
        #expect(Self.codes(of: Program(instructions: [.parameter(3)], localCount: 0)) == ["E0881"])
        #expect(Self.codes(of: Program(instructions: [.state(directory: 2)], localCount: 0)) == ["E0881"])
        #expect(Self.codes(of: Program(instructions: [.value(KeyPattern(directory: 5, segments: []))], localCount: 0)) == ["E0881"])
        #expect(Self.codes(of: Program(instructions: [.seen(directory: 0, state: 9)], localCount: 0)) == ["E0888"])
    }

    // MARK: - Rows

    @Test func rowIndices() {
        var owner = Self.protocolDefinition()
        owner.directories[0].owner = 5
        #expect(Self.codes(of: CompiledRuleTable(protocols: [owner])) == ["E0881"])

        var mask = Self.protocolDefinition()
        mask.keys[0].writers = RoleMask([0, 4])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [mask])) == ["E0881"])

        var blame = Self.protocolDefinition()
        blame.guarantees = [
            Guarantee(
                name: "g", kind: .always(Program(instructions: [.boolean(true)], localCount: 0)), blame: .role(2), origin: Self.origin)
        ]
        #expect(Self.codes(of: CompiledRuleTable(protocols: [blame])) == ["E0881"])

        let alias = Self.protocolDefinition(roles: [
            Role(name: "a", principal: .parameter(7)), Role(name: "b", principal: .privileged, aliasOf: 4),
        ])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [alias])) == ["E0881", "E0881"])

        let machineKey = Self.protocolDefinition(machines: [Machine(directory: 0, key: 3, transitions: [], origin: Self.origin)])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [machineKey])) == ["E0881"])

        var parameter = Self.protocolDefinition()
        parameter.directories[1].segments[2] = .parameter(3)
        #expect(Self.codes(of: CompiledRuleTable(protocols: [parameter])) == ["E0881"])

        var keySlot = Self.protocolDefinition()
        keySlot.keys[0].pattern.segments = [[.literal("ring-ref"), .index(slot: 0, name: "i")]]
        #expect(Self.codes(of: CompiledRuleTable(protocols: [keySlot])) == ["E0886"])
    }

    /// A link names another directory, from a key without index variables that is not a state key.
    @Test func linkKeys() {
        var definition = Self.protocolDefinition()
        definition.keys.append(
            Key(
                pattern: KeyPattern(directory: 0, segments: [[.literal("backend")]]), isState: false, type: .string(pattern: nil),
                initializers: RoleMask([1]), initialValue: nil, writers: RoleMask([]), phase: nil, indices: [], condition: nil,
                defaultValue: nil, deprecated: false, link: 1, origin: Self.origin))
        #expect(Self.codes(of: CompiledRuleTable(protocols: [definition])) == [])
        definition.keys[1].link = 0
        #expect(Self.codes(of: CompiledRuleTable(protocols: [definition])) == ["E0888"])
        definition.keys[0].link = 1
        definition.keys[1].link = 1
        #expect(Self.codes(of: CompiledRuleTable(protocols: [definition])) == ["E0888"], "the state key cannot be a link")
    }

    /// A key machine's transitions have no obligations (the checker refuses them, E0752); a table with one is refused.
    @Test func keyMachineObligation() {
        var definition = Self.protocolDefinition()
        let program = Program(instructions: [.boolean(true)], localCount: 0)
        definition.keyMachines = [
            Machine(
                directory: 0, key: 0,
                transitions: [
                    Transition(from: .all, to: 3, by: RoleMask([0]), guardProgram: nil, obligation: program, note: nil, origin: Self.origin)
                ], origin: Self.origin)
        ]
        #expect(Self.codes(of: CompiledRuleTable(protocols: [definition])) == ["E0888"])
        definition.keyMachines[0].transitions[0].obligation = nil
        definition.keyMachines[0].transitions[0].guardProgram = program
        #expect(Self.codes(of: CompiledRuleTable(protocols: [definition])) == [])
    }

    @Test func rowConsistency() {
        let target = Self.protocolDefinition(machines: [
            Machine(
                directory: 0, key: 0,
                transitions: [
                    Transition(from: .all, to: 42, by: RoleMask([0]), guardProgram: nil, obligation: nil, note: nil, origin: Self.origin)
                ], origin: Self.origin)
        ])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [target])) == ["E0888"])
        let directory = Self.protocolDefinition(machines: [Machine(directory: 1, key: 0, transitions: [], origin: Self.origin)])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [directory])) == ["E0888"])
        let turn = Self.protocolDefinition(turns: [Turn(frontendState: 1, backendState: 12, roles: RoleMask([0]))])
        #expect(Self.codes(of: CompiledRuleTable(protocols: [turn])) == ["E0888"])

        let admission = LabelAdmission(protocolIndex: 0, frontendRole: 0, backendRole: 1, pairs: [])
        let twice = CompiledRuleTable(protocols: [Self.protocolDefinition()], policyName: "p", admissions: [admission, admission])
        #expect(Self.codes(of: twice) == ["E0888"])
        let outside = CompiledRuleTable(
            protocols: [Self.protocolDefinition()], policyName: nil,
            admissions: [LabelAdmission(protocolIndex: 1, frontendRole: 0, backendRole: 1, pairs: [])])
        #expect(Self.codes(of: outside) == ["E0881"])
        let role = CompiledRuleTable(
            protocols: [Self.protocolDefinition()], policyName: nil,
            admissions: [LabelAdmission(protocolIndex: 0, frontendRole: 0, backendRole: 9, pairs: [])])
        #expect(Self.codes(of: role) == ["E0881"])
    }

    /// Turn rows with conditions: the flags, the program and its text are checked like other rows'.
    @Test func turnConditions() {
        let condition = Turn.Condition(
            program: Program(instructions: [.present(Self.statePattern)], localCount: 0), text: "present(fe/state)")
        let rows = [
            Turn(frontendState: 1, backendState: 1, condition: condition, roles: RoleMask([0])),
            Turn(frontendState: 1, backendState: 1, roles: RoleMask([1])),
        ]
        let table = CompiledRuleTable(protocols: [Self.protocolDefinition(turns: rows)])
        let (decoded, codes) = Self.decode(RuleTableEncoder.encode(table))
        #expect(codes == [])
        #expect(decoded == table)
        // The count, then the first row: flags, frontend state, backend state, roles, program, text.
        let payload = Support.sections(of: RuleTableEncoder.encode(table)).first { $0.id == RuleTableFormat.Section.turns.rawValue }?
            .payload
        #expect(payload?.prefix(6) == [2, 1, 1, 1, 1, 0])
        // Reserved flag bits.
        #expect(Self.decode(Support.replacing(.turns, in: table) { $0[1] = 0x03 }).1 == ["E0882"])
        // A condition naming a program the protocol does not have.
        #expect(Self.decode(Support.replacing(.turns, in: table) { $0[5] = 7 }).1 == ["E0881"])
        // A condition text that is not a string of the table.
        #expect(Self.decode(Support.replacing(.turns, in: table) { $0[6] = 0x7F }).1 == ["E0880"])
        // A row cut short inside its condition.
        #expect(Self.decode(Support.replacing(.turns, in: table) { $0.removeLast() }).1 == ["E0877"])
        // A condition program that leaves two values is refused by the program verifier.
        var twoValues = rows
        twoValues[0].condition?.program = Program(instructions: [.boolean(true), .boolean(true)], localCount: 0)
        #expect(Self.codes(of: CompiledRuleTable(protocols: [Self.protocolDefinition(turns: twoValues)])) == ["E0885"])
        // A row after the state's row without condition could never decide.
        let unreachable = [rows[1], rows[0]]
        #expect(Self.codes(of: CompiledRuleTable(protocols: [Self.protocolDefinition(turns: unreachable)])) == ["E0888"])
        // Other states' rows may follow it.
        let other = [rows[1], Turn(frontendState: 1, backendState: 3, condition: condition, roles: RoleMask([0]))]
        #expect(Self.codes(of: CompiledRuleTable(protocols: [Self.protocolDefinition(turns: other)])) == [])
    }

    static let statePattern = KeyPattern(directory: 0, segments: [[.literal("state")]])

    @Test func tooManyRoles() {
        let roles = (0..<33).map { Role(name: "r\($0)", principal: .privileged) }
        #expect(Self.codes(of: CompiledRuleTable(protocols: [Self.protocolDefinition(roles: roles)])).first == "E0881")
    }

    // MARK: - Path index

    @Test func pathIndex() {
        let table = CompiledRuleTable(protocols: [Self.protocolDefinition()])
        // The index of an empty table (the root alone) does not match the templates.
        #expect(Self.decode(Support.replacing(.paths, in: table) { $0 = [1, 0, 0, 0] }).1 == ["E0887"])
        // No root.
        #expect(Self.decode(Support.replacing(.paths, in: table) { $0 = [0] }).1 == ["E0887"])
        // A child that points back at its parent.
        #expect(Self.decode(Support.replacing(.paths, in: table) { $0 = [1, 0, 0, 1] }).1 == ["E0887"])
        // An entry naming a directory that does not exist.
        #expect(Self.decode(Support.replacing(.paths, in: table) { $0 = [1, 1, 0, 7, 0, 0] }).1 == ["E0881"])
    }

    @Test func pathExpansionIsBounded() {
        // Three segments of 128 alternatives expand to more than 2^20 trie visits: refused before building.
        var strings = Support.uleb(129)
        for index in 0..<129 {
            let text = Array("s\(index)".utf8)
            strings += Support.uleb(UInt64(text.count)) + text
        }
        // One protocol: name 0, origin (0, 0, 0), no parameters, audit, one role, no states, one directory, no labels.
        var protocols: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3]
        for _ in 0..<3 {
            protocols += [2] + Support.uleb(128)
            for index in 1...128 { protocols += Support.uleb(UInt64(index)) }
        }
        protocols.append(0)
        let sections: [(id: UInt32, payload: [UInt8])] = [
            (1, strings), (2, protocols), (3, [0]), (4, [0]), (5, [0, 0]), (6, [0]), (7, [0]), (8, [0]), (9, [1, 0, 0, 0]),
        ]
        let clock = ContinuousClock()
        var codes: [String] = []
        let time = clock.measure { codes = Self.decode(Support.assemble(sections)).1 }
        #expect(codes == ["E0887"])
        #expect(time < .seconds(60))  // a hang guard; speed is a benchmark matter
    }

    @Test func errorsAreCapped() {
        var definition = Self.protocolDefinition()
        definition.directories = (0..<40).map { _ in Directory(name: "d", segments: [], owner: 9, readers: [], origin: Self.origin) }
        let codes = Self.codes(of: CompiledRuleTable(protocols: [definition]))
        #expect(codes.count == RuleTableDecoder.errorLimit)
    }

    // MARK: - LEB128

    @Test func leb128() throws {
        var writer = TableWriter()
        let values: [Int128] = DefinitionGenerator.integers
        for value in values { writer.sleb(value) }
        writer.uleb(Int.max)
        writer.uleb(0)
        var reader = TableReader(bytes: writer.bytes, start: 0, end: writer.bytes.count, section: "TEST")
        for value in values { #expect(try reader.sleb128("v") == value) }
        #expect(try reader.uleb("v") == Int.max)
        #expect(try reader.uleb("v") == 0)
        #expect(reader.isAtEnd)
        // 19 bytes at most; the 19th byte's upper bits must copy the sign.
        var tooLong = TableReader(bytes: [UInt8](repeating: 0x80, count: 18) + [0x02], start: 0, end: 19, section: "TEST")
        #expect(throws: DecodeFailure.self) { try tooLong.sleb128("v") }
        var redundant = TableReader(bytes: [0xFF, 0x7F], start: 0, end: 2, section: "TEST")
        #expect(throws: DecodeFailure.self) { try redundant.sleb128("v") }
        var redundantZero = TableReader(bytes: [0x80, 0x00], start: 0, end: 2, section: "TEST")
        #expect(throws: DecodeFailure.self) { try redundantZero.uleb("v") }
    }
}
