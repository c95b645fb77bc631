import PolicyDiagnostics
import ProtocolModel
import RuleTable
import Testing

/// `inspect` output of a table: header, sections, rows by name, programs disassembled.
@Suite struct DumperTests {
    static func dumper() throws -> RuleTableDumper {
        var table = try Support.referenceTable()
        table.policyName = "example"
        table.admissions = LabelAdmission.compute(for: table.protocols, vmLabels: ["dom0", "guest"]) { _, backend in backend == "dom0" }
        // The reference description has no `labels` lines; these stand for a frontend's and a backend's.
        table.admissions[0].origins = [Origin(file: "vbd.xpd", line: 24, column: 21), Origin(file: "vbd.xpd", line: 23, column: 21)]
        let result = RuleTableDecoder.decodeWithLayout(RuleTableEncoder.encode(table), file: "vbd.xsrt")
        return RuleTableDumper(file: "vbd.xsrt", layout: try #require(result.layout), table: try #require(result.table))
    }

    @Test func text() throws {
        let text = try Self.dumper().text()
        for expected in [
            "vbd.xsrt: xenstore rule table, format version 3",
            "flags     0x0001 (admission)",
            "policy    example",
            "STRINGS", "PROTOCOLS", "CODE", "KEYS", "MACHINES", "GUARANTEES", "EXPECTATIONS", "TURNS", "PATHS", "ADMISSION",
            "protocol vbd (",
            "fe = /local/domain/{fe}/device/vbd/{devid}  owner frontend, readers backend",
            "be = /local/domain/{be}/backend/{vbd|qdisk|tap}/{fe}/{devid}  owner backend, readers frontend",
            "fe/ring-ref{i}  uint [0 .. 4294967296)  writers frontend  phase {Initialising}",
            "fe.state (key ",
            "{Initialising} -> Initialised by frontend",
            "guard:", "obligation:", "state be", "number.default fe/ring-page-order",
            "be_stays_out_of_fe: never backend write | mkdir | rm | setperms on fe/**  blame writer",
            "sector_geometry: always  blame writer",
            "within 10000 ms  blame backend",
            "(Initialising, Initialising):",
            // A global state split by a key: a conditional row with its code, then the fallback.
            "(Initialised, InitWait) if present(be/physical-device): backend\n        condition:\n          0  present be/physical-device\n",
            "(Initialised, InitWait): hotplug\n",
            "/local/domain/{#}/device/vbd/{#}  -> vbd.fe",
            "/local/domain/{#}/backend/qdisk/{#}/{#}  -> vbd.be",
            "frontend label -> backend label  (vbd.xpd:24:21, vbd.xpd:23:21)",
            "\"guest\" -> \"dom0\"",
        ] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
    }

    @Test func json() throws {
        let note = Diagnostic.warning("W0870", "unknown section id 200 (3 bytes at offset 9) skipped", at: SourceLocation(file: "vbd.xsrt"))
        let json = try Self.dumper().json(diagnostics: [note])
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        #expect(
            members.map(\.0) == [
                "file", "format", "version", "length", "flags", "checksum", "policy_name", "sections", "protocols", "path_index",
                "admission",
                "diagnostics",
            ])
        let rendered = json.rendered()
        for expected in [
            "\"format\": \"xsrt\"", "\"name\": \"vbd\"", "\"template\": \"/local/domain/{fe}/device/vbd/{devid}\"", "\"guard\": {",
            "\"code\": [", "\"turns\": [", "\"condition\": \"present(be/physical-device)\"", "\"condition_code\": {",
            "\"frontend_role\": \"frontend\"", "[\"guest\", \"dom0\"]", "[W0870]", "\"origins\": [\"vbd.xpd:24:21\", \"vbd.xpd:23:21\"]",
        ] {
            #expect(rendered.contains(expected), "missing: \(expected)")
        }
    }

    /// Key machines and link keys, in the text and the JSON, after a trip through the bytes.
    @Test func keyMachinesAndLinks() throws {
        var definition = MalformedTableTests.protocolDefinition()
        let origin = MalformedTableTests.origin
        let bound = Program(instructions: [.integer(4)], localCount: 0)
        definition.keys += [
            Key(
                pattern: KeyPattern(directory: 1, segments: [[.literal("state-"), .index(slot: 0, name: "n")]]), isState: false,
                type: .state, initializers: RoleMask([1]), initialValue: nil, writers: RoleMask([1]), phase: nil,
                indices: [IndexVariable(name: "n", slot: 0, lower: Program(instructions: [.integer(0)], localCount: 0), upper: bound)],
                condition: nil, defaultValue: nil, deprecated: false, origin: origin),
            Key(
                pattern: KeyPattern(directory: 1, segments: [[.literal("frontend")]]), isState: false, type: .string(pattern: nil),
                initializers: RoleMask([1]), initialValue: nil, writers: RoleMask([]), phase: nil, indices: [], condition: nil,
                defaultValue: nil, deprecated: false, link: 0, origin: origin),
        ]
        definition.keyMachines = [
            Machine(
                directory: 1, key: 1,
                transitions: [
                    Transition(
                        from: StateMask([1]), to: 3, by: RoleMask([1]), guardProgram: nil, obligation: nil, note: "attach", origin: origin)
                ], origin: origin)
        ]
        let result = RuleTableDecoder.decodeWithLayout(RuleTableEncoder.encode(CompiledRuleTable(protocols: [definition])), file: "k.xsrt")
        #expect(result.diagnostics == [])
        let dumper = RuleTableDumper(file: "k.xsrt", layout: try #require(result.layout), table: try #require(result.table))
        let text = dumper.text()
        for expected in ["  key machines\n", "be/state-{n} (key 1)", "{S1} -> S3 by backend", "note \"attach\"", "  link fe"] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        let json = dumper.json(diagnostics: []).rendered()
        #expect(json.contains("\"key_machines\": ["))
        #expect(json.contains("\"link\": \"fe\""))
    }

    @Test func disassembly() {
        var generator = DefinitionGenerator(seed: 5)
        let definition = generator.definition(number: 0)
        let program = DefinitionGenerator.everyInstruction(
            DefinitionGenerator.Context(
                parameters: definition.parameters.count, directories: definition.directories.count, states: definition.states.map(\.value)))
        let lines = RuleTableDumper.disassemble(program, definition)
        #expect(lines.count == program.instructions.count)
        #expect(lines[0] == " 0  push 3")
        #expect(lines[1] == " 1  store 0")
        #expect(lines[4].hasSuffix("value d0/ring-ref{i@0}"))
        #expect(lines.contains { $0.hasSuffix("seen d0 S0") })
        for mnemonic in ["eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "rem", "shl", "jump.false", "in.range", "pow2", "set 2"] {
            #expect(lines.contains { $0.hasSuffix("  \(mnemonic)") || $0.contains("  \(mnemonic) ") }, "\(mnemonic)")
        }
    }
}
