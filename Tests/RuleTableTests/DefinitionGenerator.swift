import ProtocolModel
import RuleTable
import TestSupport

/// A deterministic generator of valid `ProtocolDefinition`s (every reference in range, every
/// program balanced), covering every enum case and instruction, so failures reproduce from a seed.
struct DefinitionGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func bool() -> Bool { next() & 1 == 1 }

    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    /// Integers that stress the 128-bit LEB128 encoding.
    static let integers: [Int128] = [
        0, 1, -1, 63, 64, -64, -65, 127, 128, 255, 256, 4_294_967_296, 18_446_744_073_709_551_616, -18_446_744_073_709_551_616,
        Int128(Int64.max), Int128(Int64.min), Int128(Int64.min) - 1, Int128.max, Int128.min, Int128.max - 1, Int128.min + 1,
        Int128(1) << 126, -(Int128(1) << 126), (Int128(1) << 126) - 1, -(Int128(1) << 126) - 1,
    ]

    static let words = [
        "local", "domain", "device", "backend", "vbd", "vif", "qdisk", "tap", "state", "ring-ref", "event-channel", "queue-",
        "feature-persistent", "", "π", "e\u{301}", "\u{E9}", "a b", "quote\"back\\slash", "line\nbreak", "9pfs", "0",
    ]

    mutating func word() -> String { pick(Self.words) }

    mutating func origin() -> Origin {
        Origin(file: pick(["vbd.xpd", "xenbus.xpd", "dir/ü.xpd"]), line: int(0...2000), column: int(0...200))
    }

    // MARK: - Programs

    /// What a program may refer to.
    struct Context {
        var parameters: Int
        var directories: Int
        var states: [Int]
    }

    mutating func keyPattern(_ context: Context, slots: Int) -> KeyPattern {
        var segments: [[KeyPattern.Part]] = []
        for _ in 0..<int(0...3) {
            var parts: [KeyPattern.Part] = []
            for _ in 0..<int(0...2) {
                if slots > 0, bool() {
                    parts.append(.index(slot: int(0...(slots - 1)), name: pick(["i", "q", "n"])))
                } else {
                    parts.append(.literal(word()))
                }
            }
            segments.append(parts)
        }
        return KeyPattern(directory: int(0...(context.directories - 1)), segments: segments)
    }

    /// Appends code that pushes exactly one value.
    mutating func expression(_ context: Context, depth: Int, code: inout [Instruction], locals: inout Int) {
        let choice = depth <= 0 ? int(0...9) : int(0...21)
        switch choice {
        case 0: code.append(.boolean(bool()))
        case 1: code.append(.integer(pick(Self.integers)))
        case 2: code.append(.string(word()))
        case 3: code.append(.parameter(int(0...(context.parameters - 1))))
        case 4: code.append(.value(keyPattern(context, slots: locals)))
        case 5: code.append(.present(keyPattern(context, slots: locals)))
        case 6: code.append(.number(keyPattern(context, slots: locals), hasDefault: false))
        case 7: code.append(.state(directory: int(0...(context.directories - 1))))
        case 8: code.append(.seen(directory: int(0...(context.directories - 1)), state: pick(context.states)))
        case 9:
            if locals > 0 { code.append(.load(slot: int(0...(locals - 1)))) } else { code.append(.boolean(false)) }
        case 10:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(bool() ? .not : .powerOfTwo)
        case 11:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.binary(pick(BinaryOperation.allCases)))
        case 12:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.number(keyPattern(context, slots: locals), hasDefault: true))
        case 13:
            for _ in 0..<3 { expression(context, depth: depth - 1, code: &code, locals: &locals) }
            code.append(.inRange)
        case 14:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            let count = int(0...3)
            for _ in 0..<count { expression(context, depth: depth - 1, code: &code, locals: &locals) }
            code.append(.makeSet(count: count))
            code.append(.member)
        case 15:
            // if c then a else b
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            let toElse = code.count
            code.append(.jumpIfFalse(-1))
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            let toEnd = code.count
            code.append(.jump(-1))
            code[toElse] = .jumpIfFalse(code.count)
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code[toEnd] = .jump(code.count)
        case 16:
            let slot = locals
            locals += 1
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.store(slot: slot))
            code.append(.load(slot: slot))
        case 17:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.pop)
        case 18:
            // forall x in [lower .. upper) : body, as the expression compiler lays it out
            let slot = locals
            let upper = locals + 1
            locals += 2
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.store(slot: slot))
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.store(slot: upper))
            let loop = code.count
            code += [.load(slot: slot), .load(slot: upper), .binary(.less)]
            let exitTrue = code.count
            code.append(.jump(-1))
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            let exitFalse = code.count
            code.append(.jump(-1))
            code += [.load(slot: slot), .integer(1), .binary(.add), .store(slot: slot), .jump(loop)]
            code[exitTrue] = .jumpIfFalse(code.count)
            code.append(.boolean(true))
            let end = code.count
            code.append(.jump(-1))
            code[exitFalse] = .jumpIfFalse(code.count)
            code.append(.boolean(false))
            code[end] = .jump(code.count)
        default:
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            expression(context, depth: depth - 1, code: &code, locals: &locals)
            code.append(.binary(pick([.equal, .lessEqual, .shiftLeft, .remainder])))
        }
    }

    mutating func program(_ context: Context, reserved: Int = 0) -> Program {
        var code: [Instruction] = []
        var locals = reserved
        expression(context, depth: int(0...4), code: &code, locals: &locals)
        return Program(instructions: code, localCount: locals + int(0...1))
    }

    /// One program that uses every instruction and every binary operation.
    static func everyInstruction(_ context: Context) -> Program {
        let pattern = KeyPattern(directory: 0, segments: [[.literal("ring-ref"), .index(slot: 0, name: "i")]])
        var code: [Instruction] = [
            .integer(3), .store(slot: 0), .load(slot: 0), .parameter(0), .value(pattern), .present(pattern),
            .number(pattern, hasDefault: false), .integer(1), .number(pattern, hasDefault: true), .state(directory: 0),
            .seen(directory: 0, state: context.states[0]), .makeSet(count: 2), .member, .integer(0), .integer(9), .inRange,
            .string("x"), .pop,
        ]
        // stack: load, param, value, present, member, inRange -> 6 values; fold them with every operation.
        for operation in BinaryOperation.allCases {
            code += [.integer(Int128(operation.rawValue)), .binary(operation), .not, .powerOfTwo]
        }
        for _ in 0..<5 { code.append(.binary(.equal)) }
        code += [.jumpIfFalse(0), .boolean(true), .jump(0), .boolean(false)]
        let count = code.count
        code[count - 4] = .jumpIfFalse(count - 1)
        code[count - 2] = .jump(count)
        return Program(instructions: code, localCount: 1)
    }

    // MARK: - Definitions

    mutating func roleMask(_ roles: Int) -> RoleMask {
        RoleMask(rawValue: UInt32(truncatingIfNeeded: next()) & (roles >= 32 ? UInt32.max : (1 << UInt32(roles)) - 1))
    }

    mutating func definition(number: Int) -> ProtocolDefinition {
        let parameters = (0..<int(1...4)).map { "p\($0)" } + (number % 3 == 0 ? ["π"] : [])
        let roleCount = number % 7 == 6 ? 32 : int(1...6)
        var roles: [Role] = []
        for index in 0..<roleCount {
            switch index % 3 {
            case 0: roles.append(Role(name: "role\(index)", principal: .parameter(int(0...(parameters.count - 1)))))
            case 1: roles.append(Role(name: "role\(index)", principal: .privileged))
            default: roles.append(Role(name: "role\(index)", principal: .privileged, aliasOf: int(0...(index - 1))))
            }
        }
        var states = (0..<int(2...9)).map { State(name: "S\($0)", value: $0) }
        if number % 4 == 1 { states.append(State(name: "Far", value: 1000)) }
        if number % 4 == 2 { states.append(State(name: "Negative", value: -5)) }
        var directories: [Directory] = []
        for index in 0..<int(1...3) {
            var segments: [Directory.Segment] = []
            var variables = 0
            for _ in 0..<(number % 5 == 4 && index == 0 ? 0 : int(1...6)) {
                // At most the variable segments a directory may have (`E0889` past them).
                let kind = variables < Directory.maximumVariableSegments ? int(0...2) : 0
                if kind != 0 { variables += 1 }
                switch kind {
                case 0: segments.append(.literal(word()))
                case 1: segments.append(.parameter(int(0...(parameters.count - 1))))
                default: segments.append(.alternatives((0..<int(1...3)).map { _ in word() }))
                }
            }
            directories.append(
                Directory(
                    name: "d\(index)", segments: segments, owner: int(0...(roleCount - 1)),
                    readers: (0..<int(0...2)).map { _ in int(0...(roleCount - 1)) }, origin: origin()))
        }
        let context = Context(parameters: parameters.count, directories: directories.count, states: states.map(\.value))
        let types: [ValueType] = [
            .unsigned(lower: 0, upper: 4_294_967_296), .unsigned(lower: pick(Self.integers), upper: pick(Self.integers)),
            .string(pattern: nil), .string(pattern: "^[0-9a-f]+:[0-9a-f]+$"), .literals(["0", "1"]), .literals([]), .state,
        ]
        var keys: [Key] = []
        for index in 0..<int(0...6) {
            let indexCount = int(0...2)
            let indices = (0..<indexCount).map { slot in
                IndexVariable(
                    name: "i\(slot)", slot: slot, lower: program(context, reserved: indexCount),
                    upper: program(context, reserved: indexCount))
            }
            keys.append(
                Key(
                    pattern: keyPattern(context, slots: indexCount), isState: index == 0, type: pick(types),
                    initializers: roleMask(roleCount),
                    initialValue: bool() ? word() : nil, writers: roleMask(roleCount),
                    phase: bool() ? StateMask(rawValue: UInt32(truncatingIfNeeded: next())) : nil,
                    indices: indices, condition: bool() ? program(context, reserved: indexCount) : nil, defaultValue: bool() ? word() : nil,
                    deprecated: bool(), origin: origin()))
        }
        var machines: [Machine] = []
        for _ in 0..<(keys.isEmpty ? 0 : int(0...2)) {
            let key = int(0...(keys.count - 1))
            var transitions: [Transition] = []
            for _ in 0..<int(0...4) {
                transitions.append(
                    Transition(
                        from: bool() ? .all : StateMask(rawValue: UInt32(truncatingIfNeeded: next()) & 0x1FF), to: pick(context.states),
                        by: roleMask(roleCount), guardProgram: bool() ? program(context) : nil, obligation: bool() ? program(context) : nil,
                        note: bool() ? word() : nil, origin: origin()))
            }
            machines.append(Machine(directory: keys[key].pattern.directory, key: key, transitions: transitions, origin: origin()))
        }
        func blame(_ generator: inout DefinitionGenerator) -> Blame {
            switch generator.int(0...2) {
            case 0: .writer
            case 1: .turn
            default: .role(generator.int(0...(roleCount - 1)))
            }
        }
        var guarantees: [Guarantee] = []
        for index in 0..<int(0...3) {
            let kind: Guarantee.Kind
            if bool() {
                let paths = (0..<int(0...3)).map { _ in
                    PathGlob(
                        directory: int(0...(directories.count - 1)),
                        segments: (0..<int(0...3)).map { _ in pick([.literal(word()), .any, .anyDepth]) })
                }
                kind = .never(
                    roles: roleMask(roleCount), operations: OperationMask(rawValue: UInt8(int(0...63))), paths: paths,
                    unless: bool() ? program(context) : nil)
            } else {
                kind = .always(program(context))
            }
            guarantees.append(Guarantee(name: "g\(index)", kind: kind, blame: blame(&self), origin: origin()))
        }
        let expectations = (0..<int(0...2)).map { _ in
            Expectation(
                condition: program(context), trigger: program(context), milliseconds: pick([0, 10_000, 30_000, Int(Int32.max)]),
                blame: blame(&self), origin: origin(), summary: "expect " + word())
        }
        let labels = (0..<int(0...2)).map { _ in
            let count = int(0...3)
            return RoleLabels(
                role: int(0...(roleCount - 1)), labels: (0..<count).map { _ in word() }, origins: (0..<count).map { _ in origin() })
        }
        var turns = (0..<int(0...5)).map { _ in
            Turn(frontendState: pick(context.states), backendState: pick(context.states), roles: roleMask(roleCount))
        }
        if number % 2 == 0 {
            guarantees.append(Guarantee(name: "every", kind: .always(Self.everyInstruction(context)), blame: .writer, origin: origin()))
        }
        // From a generator of their own, so that this generator's draws (and the tables of the seeds
        // other tests rely on) stay as they were before key machines existed.
        var keyMachines: [Machine] = []
        var side = DefinitionGenerator(seed: 0x6B65_794D_6163_6869 &+ UInt64(number))
        for _ in 0..<(keys.isEmpty ? 0 : side.int(0...2)) {
            let key = side.int(0...(keys.count - 1))
            let transitions = (0..<side.int(0...3)).map { _ in
                Transition(
                    from: StateMask(rawValue: UInt32(truncatingIfNeeded: side.next()) & 0x1FF), to: side.pick(context.states),
                    by: side.roleMask(roleCount),
                    guardProgram: side.bool() ? side.program(context, reserved: keys[key].indices.count) : nil,
                    obligation: nil, note: side.bool() ? side.word() : nil, origin: side.origin())
            }
            keyMachines.append(Machine(directory: keys[key].pattern.directory, key: key, transitions: transitions, origin: side.origin()))
        }
        for index in keys.indices where keys[index].indices.isEmpty && !keys[index].isState && directories.count > 1 && side.bool() {
            let others = directories.indices.filter { $0 != keys[index].pattern.directory }
            keys[index].link = side.pick(others)
        }
        // Conditions last, from the side generator, for the same reason. A state's row without
        // condition ends its rows (the decoder refuses rows after it), so later ones are dropped.
        for index in turns.indices where side.bool() {
            turns[index].condition = Turn.Condition(program: side.program(context), text: side.word())
        }
        var ended: Set<[Int]> = []
        turns = turns.filter { turn in
            guard !ended.contains([turn.frontendState, turn.backendState]) else { return false }
            if turn.condition == nil { ended.insert([turn.frontendState, turn.backendState]) }
            return true
        }
        return ProtocolDefinition(
            name: "proto\(number)", origin: origin(), parameters: parameters, roles: roles, states: states, directories: directories,
            keys: keys, machines: machines, keyMachines: keyMachines, guarantees: guarantees, expectations: expectations,
            unknownKeys: UnknownKeyPolicy.allCases[number % 3], labels: labels, turns: turns)
    }

    mutating func table(protocols count: Int) -> CompiledRuleTable {
        let protocols = (0..<count).map { definition(number: $0 + int(0...20)) }
        guard bool(), !protocols.isEmpty else { return CompiledRuleTable(protocols: protocols) }
        // Origins from a generator of their own, so that the draws of seeds other tests rely on stay as
        // they were before admission rows had origins.
        var side = DefinitionGenerator(seed: 0x6164_6D69_7373_696F &+ UInt64(protocols.count))
        let admissions = protocols.indices.filter { _ in bool() }.map { index in
            LabelAdmission(
                protocolIndex: index, frontendRole: int(0...(protocols[index].roles.count - 1)),
                backendRole: int(0...(protocols[index].roles.count - 1)),
                pairs: (0..<int(0...3)).map { _ in LabelAdmission.Pair(frontend: word(), backend: word()) },
                origins: (0..<side.int(0...2)).map { _ in side.origin() })
        }
        return CompiledRuleTable(protocols: protocols, policyName: bool() ? "policy-\(int(0...9))" : nil, admissions: admissions)
    }
}
