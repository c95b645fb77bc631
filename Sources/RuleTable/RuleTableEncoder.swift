import ProtocolModel

/// Encodes a `CompiledRuleTable` as an `.xsrt` file (docs/rule-table.md). Deterministic: strings
/// and programs are numbered in the order the rows first use them, never in hash order.
public enum RuleTableEncoder {
    /// The table's bytes. The table must be valid (as `RuleTableDecoder` checks it): indices and
    /// counts are written unsigned, and invalid references give bytes the decoder refuses.
    public static func encode(_ table: CompiledRuleTable) -> [UInt8] {
        var encoder = Encoding()
        var sections: [(RuleTableFormat.Section, [UInt8])] = []
        let protocols = encoder.protocols(table.protocols)
        var keys = TableWriter()
        var machines = TableWriter()
        var guarantees = TableWriter()
        var expectations = TableWriter()
        var turns = TableWriter()
        var code = TableWriter()
        for definition in table.protocols {
            var programs = ProgramPool()
            encoder.keys(definition.keys, programs: &programs, into: &keys)
            encoder.machines(definition.machines, programs: &programs, into: &machines)
            encoder.machines(definition.keyMachines, programs: &programs, into: &machines)
            encoder.guarantees(definition.guarantees, programs: &programs, into: &guarantees)
            encoder.expectations(definition.expectations, programs: &programs, into: &expectations)
            encoder.turns(definition.turns, programs: &programs, into: &turns)
            code.uleb(programs.encoded.count)
            for program in programs.encoded { code.append(program) }
        }
        let paths = encoder.paths(table.pathIndex)
        var admission: [UInt8]? = nil
        if table.hasAdmissionSection { admission = encoder.admission(table) }

        sections.append((.strings, encoder.strings.bytes()))
        sections.append((.protocols, protocols))
        sections.append((.code, code.bytes))
        sections.append((.keys, keys.bytes))
        sections.append((.machines, machines.bytes))
        sections.append((.guarantees, guarantees.bytes))
        sections.append((.expectations, expectations.bytes))
        sections.append((.turns, turns.bytes))
        sections.append((.paths, paths))
        if let admission { sections.append((.admission, admission)) }

        let dataStart = RuleTableFormat.headerSize + RuleTableFormat.directoryEntrySize * sections.count
        let length = dataStart + sections.reduce(0) { $0 + $1.1.count }
        precondition(length <= Int(UInt32.max), "a rule table is limited to 4 GiB")
        var out = TableWriter()
        out.bytes.reserveCapacity(length)
        out.append(RuleTableFormat.magic)
        out.u16(RuleTableFormat.version)
        out.u16(admission == nil ? 0 : RuleTableFormat.Flag.admission)
        out.u32(UInt32(length))
        out.u32(0)  // checksum, filled in below
        out.u32(UInt32(sections.count))
        var offset = dataStart
        for (section, bytes) in sections {
            out.u32(section.rawValue)
            out.u32(UInt32(offset))
            out.u32(UInt32(bytes.count))
            offset += bytes.count
        }
        for (_, bytes) in sections { out.append(bytes) }
        let checksum = RuleTableFormat.checksum(out.bytes)
        for index in 0..<4 { out.bytes[RuleTableFormat.checksumOffset + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(8 * index)) }
        return out.bytes
    }
}

/// Deduplicated strings, numbered by first use; keyed by UTF-8 bytes, so that canonically
/// equivalent but different strings stay different.
struct StringPool {
    private var index: [[UInt8]: Int] = [:]
    private var strings: [[UInt8]] = []

    mutating func id(_ string: String) -> Int {
        let utf8 = Array(string.utf8)
        if let existing = index[utf8] { return existing }
        index[utf8] = strings.count
        strings.append(utf8)
        return strings.count - 1
    }

    func bytes() -> [UInt8] {
        var out = TableWriter()
        out.uleb(strings.count)
        for string in strings {
            out.uleb(string.count)
            out.append(string)
        }
        return out.bytes
    }
}

/// One protocol's programs, deduplicated by their encoding and numbered by first use.
struct ProgramPool {
    private var index: [[UInt8]: Int] = [:]
    private(set) var encoded: [[UInt8]] = []

    mutating func id(_ bytes: [UInt8]) -> Int {
        if let existing = index[bytes] { return existing }
        index[bytes] = encoded.count
        encoded.append(bytes)
        return encoded.count - 1
    }
}

private struct Encoding {
    var strings = StringPool()

    mutating func string(_ value: String, _ out: inout TableWriter) { out.uleb(strings.id(value)) }

    mutating func optionalString(_ value: String?, _ out: inout TableWriter) {
        out.uleb(value.map { strings.id($0) + 1 } ?? 0)
    }

    mutating func origin(_ origin: Origin, _ out: inout TableWriter) {
        string(origin.file, &out)
        out.uleb(origin.line)
        out.uleb(origin.column)
    }

    func blame(_ blame: Blame, _ out: inout TableWriter) {
        switch blame {
        case .writer: out.uleb(0)
        case .turn: out.uleb(1)
        case .role(let role): out.uleb(role + 2)
        }
    }

    mutating func protocols(_ definitions: [ProtocolDefinition]) -> [UInt8] {
        var out = TableWriter()
        out.uleb(definitions.count)
        for definition in definitions {
            string(definition.name, &out)
            origin(definition.origin, &out)
            out.uleb(definition.parameters.count)
            for parameter in definition.parameters { string(parameter, &out) }
            let unknownKeys: UInt8 =
                switch definition.unknownKeys {
                case .audit: 0
                case .deny: 1
                case .allow: 2
                }
            out.u8(unknownKeys)
            out.uleb(definition.roles.count)
            for role in definition.roles {
                string(role.name, &out)
                switch role.principal {
                case .privileged: out.uleb(0)
                case .parameter(let index): out.uleb(index + 1)
                }
                out.uleb(role.aliasOf.map { $0 + 1 } ?? 0)
            }
            out.uleb(definition.states.count)
            for state in definition.states {
                string(state.name, &out)
                out.sleb(state.value)
            }
            out.uleb(definition.directories.count)
            for directory in definition.directories {
                string(directory.name, &out)
                origin(directory.origin, &out)
                out.uleb(directory.owner)
                out.uleb(directory.readers.count)
                for reader in directory.readers { out.uleb(reader) }
                out.uleb(directory.segments.count)
                for segment in directory.segments {
                    switch segment {
                    case .literal(let text):
                        out.u8(0)
                        string(text, &out)
                    case .parameter(let index):
                        out.u8(1)
                        out.uleb(index)
                    case .alternatives(let names):
                        out.u8(2)
                        out.uleb(names.count)
                        for name in names { string(name, &out) }
                    }
                }
            }
            out.uleb(definition.labels.count)
            for binding in definition.labels {
                out.uleb(binding.role)
                out.uleb(binding.labels.count)
                for (label, labelOrigin) in zip(binding.labels, binding.origins) {
                    string(label, &out)
                    origin(labelOrigin, &out)
                }
            }
        }
        return out.bytes
    }

    mutating func keyPattern(_ pattern: KeyPattern, _ out: inout TableWriter) {
        out.uleb(pattern.directory)
        out.uleb(pattern.segments.count)
        for parts in pattern.segments {
            out.uleb(parts.count)
            for part in parts {
                switch part {
                case .literal(let text):
                    out.u8(0)
                    string(text, &out)
                case .index(let slot, let name):
                    out.u8(1)
                    out.uleb(slot)
                    string(name, &out)
                }
            }
        }
    }

    /// The program's number in `programs`, encoding it on first use.
    mutating func program(_ program: Program, _ programs: inout ProgramPool) -> Int {
        var out = TableWriter()
        out.uleb(program.localCount)
        out.uleb((try? ProgramAnalysis.maximumStackDepth(program).get()) ?? 0)
        out.uleb(program.instructions.count)
        typealias Op = RuleTableFormat.Opcode
        for instruction in program.instructions {
            switch instruction {
            case .boolean(let value):
                out.u8(value ? Op.pushTrue.rawValue : Op.pushFalse.rawValue)
            case .integer(let value):
                out.u8(Op.integer.rawValue)
                out.sleb(value)
            case .string(let value):
                out.u8(Op.string.rawValue)
                string(value, &out)
            case .parameter(let index):
                out.u8(Op.parameter.rawValue)
                out.uleb(index)
            case .value(let pattern):
                out.u8(Op.value.rawValue)
                keyPattern(pattern, &out)
            case .present(let pattern):
                out.u8(Op.present.rawValue)
                keyPattern(pattern, &out)
            case .number(let pattern, let hasDefault):
                out.u8(hasDefault ? Op.numberWithDefault.rawValue : Op.number.rawValue)
                keyPattern(pattern, &out)
            case .state(let directory):
                out.u8(Op.state.rawValue)
                out.uleb(directory)
            case .seen(let directory, let state):
                out.u8(Op.seen.rawValue)
                out.uleb(directory)
                out.sleb(state)
            case .makeSet(let count):
                out.u8(Op.makeSet.rawValue)
                out.uleb(count)
            case .member: out.u8(Op.member.rawValue)
            case .inRange: out.u8(Op.inRange.rawValue)
            case .binary(let operation): out.u8(Op.binaryBase.rawValue + operation.rawValue)
            case .not: out.u8(Op.not.rawValue)
            case .powerOfTwo: out.u8(Op.powerOfTwo.rawValue)
            case .store(let slot):
                out.u8(Op.store.rawValue)
                out.uleb(slot)
            case .load(let slot):
                out.u8(Op.load.rawValue)
                out.uleb(slot)
            case .jump(let target):
                out.u8(Op.jump.rawValue)
                out.uleb(target)
            case .jumpIfFalse(let target):
                out.u8(Op.jumpIfFalse.rawValue)
                out.uleb(target)
            case .pop: out.u8(Op.pop.rawValue)
            }
        }
        return programs.id(out.bytes)
    }

    mutating func keys(_ keys: [Key], programs: inout ProgramPool, into out: inout TableWriter) {
        out.uleb(keys.count)
        for key in keys {
            var flags: UInt8 = 0
            if key.isState { flags |= 1 }
            if key.phase != nil { flags |= 2 }
            if key.condition != nil { flags |= 4 }
            if key.initialValue != nil { flags |= 8 }
            if key.defaultValue != nil { flags |= 16 }
            if key.deprecated { flags |= 32 }
            if key.link != nil { flags |= 64 }
            out.u8(flags)
            keyPattern(key.pattern, &out)
            switch key.type {
            case .unsigned(let lower, let upper):
                out.u8(0)
                out.sleb(lower)
                out.sleb(upper)
            case .string(nil):
                out.u8(1)
            case .string(let pattern?):
                out.u8(2)
                string(pattern, &out)
            case .literals(let values):
                out.u8(3)
                out.uleb(values.count)
                for value in values { string(value, &out) }
            case .state:
                out.u8(4)
            }
            out.uleb(UInt64(key.initializers.rawValue))
            if let initial = key.initialValue { string(initial, &out) }
            out.uleb(UInt64(key.writers.rawValue))
            if let phase = key.phase { out.uleb(UInt64(phase.rawValue)) }
            out.uleb(key.indices.count)
            for variable in key.indices {
                string(variable.name, &out)
                out.uleb(variable.slot)
                out.uleb(program(variable.lower, &programs))
                out.uleb(program(variable.upper, &programs))
            }
            if let condition = key.condition { out.uleb(program(condition, &programs)) }
            if let value = key.defaultValue { string(value, &out) }
            if let link = key.link { out.uleb(link) }
            origin(key.origin, &out)
        }
    }

    mutating func machines(_ machines: [Machine], programs: inout ProgramPool, into out: inout TableWriter) {
        out.uleb(machines.count)
        for machine in machines {
            out.uleb(machine.directory)
            out.uleb(machine.key)
            origin(machine.origin, &out)
            out.uleb(machine.transitions.count)
            for transition in machine.transitions {
                var flags: UInt8 = 0
                if transition.guardProgram != nil { flags |= 1 }
                if transition.obligation != nil { flags |= 2 }
                if transition.note != nil { flags |= 4 }
                out.u8(flags)
                out.uleb(UInt64(transition.from.rawValue))
                out.sleb(transition.to)
                out.uleb(UInt64(transition.by.rawValue))
                if let guardProgram = transition.guardProgram { out.uleb(program(guardProgram, &programs)) }
                if let obligation = transition.obligation { out.uleb(program(obligation, &programs)) }
                if let note = transition.note { string(note, &out) }
                origin(transition.origin, &out)
            }
        }
    }

    mutating func guarantees(_ guarantees: [Guarantee], programs: inout ProgramPool, into out: inout TableWriter) {
        out.uleb(guarantees.count)
        for guarantee in guarantees {
            string(guarantee.name, &out)
            switch guarantee.kind {
            case .never(let roles, let operations, let paths, let unless):
                out.u8(unless == nil ? 0 : 1)
                out.uleb(UInt64(roles.rawValue))
                out.u8(operations.rawValue)
                out.uleb(paths.count)
                for path in paths {
                    out.uleb(path.directory)
                    out.uleb(path.segments.count)
                    for segment in path.segments {
                        switch segment {
                        case .literal(let text):
                            out.u8(0)
                            string(text, &out)
                        case .any: out.u8(1)
                        case .anyDepth: out.u8(2)
                        }
                    }
                }
                if let unless { out.uleb(program(unless, &programs)) }
            case .always(let condition):
                out.u8(2)
                out.uleb(program(condition, &programs))
            }
            blame(guarantee.blame, &out)
            origin(guarantee.origin, &out)
        }
    }

    mutating func expectations(_ expectations: [Expectation], programs: inout ProgramPool, into out: inout TableWriter) {
        out.uleb(expectations.count)
        for expectation in expectations {
            out.uleb(program(expectation.condition, &programs))
            out.uleb(program(expectation.trigger, &programs))
            out.uleb(expectation.milliseconds)
            blame(expectation.blame, &out)
            origin(expectation.origin, &out)
            string(expectation.summary, &out)
        }
    }

    mutating func turns(_ turns: [Turn], programs: inout ProgramPool, into out: inout TableWriter) {
        out.uleb(turns.count)
        for turn in turns {
            out.u8(turn.condition == nil ? 0 : 1)
            out.sleb(turn.frontendState)
            out.sleb(turn.backendState)
            out.uleb(UInt64(turn.roles.rawValue))
            if let condition = turn.condition {
                out.uleb(program(condition.program, &programs))
                string(condition.text, &out)
            }
        }
    }

    mutating func paths(_ index: PathIndex) -> [UInt8] {
        var out = TableWriter()
        out.uleb(index.nodes.count)
        for node in index.nodes {
            out.uleb(node.entries.count)
            for entry in node.entries {
                out.uleb(entry.protocolIndex)
                out.uleb(entry.directory)
            }
            out.uleb(node.literals.count)
            for edge in node.literals {
                string(edge.label, &out)
                out.uleb(edge.child)
            }
            out.uleb(node.number ?? 0)
        }
        return out.bytes
    }

    mutating func admission(_ table: CompiledRuleTable) -> [UInt8] {
        var out = TableWriter()
        optionalString(table.policyName, &out)
        out.uleb(table.admissions.count)
        for admission in table.admissions {
            out.uleb(admission.protocolIndex)
            out.uleb(admission.frontendRole)
            out.uleb(admission.backendRole)
            out.uleb(admission.pairs.count)
            for pair in admission.pairs {
                string(pair.frontend, &out)
                string(pair.backend, &out)
            }
            out.uleb(admission.origins.count)
            for labelsOrigin in admission.origins { origin(labelsOrigin, &out) }
        }
        return out.bytes
    }
}
