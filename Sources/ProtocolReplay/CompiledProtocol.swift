import ProtocolModel

/// A key reference of a program, resolved once: the directory and either the fixed relative path or
/// the parts to fill in from local slots (`queue-{q}/ring-ref{i}`).
struct KeyReference {
    var directory: Int
    var fixed: String?
    /// The directory slot of a fixed path that is a declared key (-1: look it up by path).
    var slot: Int
    var segments: [[KeyPattern.Part]]
}

/// The fixed slots of one directory: the declared keys without index variables.
final class DirectoryLayout {
    /// Slot to relative path.
    let paths: [String]
    /// Relative path to slot.
    let lookup: ByteTable
    /// Slot to declared key.
    let keys: [Int]
    /// Per slot: whether the path has a `/` (a write to it may create parents).
    let nested: [Bool]

    init(paths: [String], keys: [Int]) {
        self.paths = paths
        self.keys = keys
        nested = paths.map { $0.utf8.contains(UInt8(ascii: "/")) }
        lookup = ByteTable(paths.enumerated().map { ($1, $0) })
    }
}

/// One instruction of the engine's form of a program: `Instruction` with key patterns replaced by
/// indices into the program's key references.
enum Operation {
    case boolean(Bool)
    case integer(Int128)
    case string(String)
    case parameter(Int)
    case value(Int)
    case present(Int)
    case number(Int, hasDefault: Bool)
    case state(Int)
    case seen(directory: Int, state: Int)
    case makeSet(Int)
    case member
    case inRange
    case binary(BinaryOperation)
    case not
    case powerOfTwo
    case store(Int)
    case load(Int)
    case jump(Int)
    case jumpIfFalse(Int)
    case pop
    /// A precomputed value (a set literal of constants).
    case constant(Value)
}

/// A set of declared keys of one protocol, as bits.
struct KeySet {
    private(set) var words: [UInt64]
    private(set) var all = false

    init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }

    mutating func insert(_ key: Int) {
        guard key >= 0, key / 64 < words.count else { return }
        words[key / 64] |= 1 << UInt64(key % 64)
    }

    mutating func insertAll() { all = true }

    mutating func formUnion(_ other: KeySet) {
        if other.all { all = true }
        for index in other.words.indices where index < words.count { words[index] |= other.words[index] }
    }

    @inline(__always) func contains(_ key: Int) -> Bool {
        if all { return true }
        guard key >= 0, key / 64 < words.count else { return false }
        return words[key / 64] & (1 << UInt64(key % 64)) != 0
    }
}

/// A program in the engine's form, with what it reads (to skip re-evaluation when nothing it reads
/// changed) and a name for evaluation-error reports.
final class CompiledProgram {
    let operations: [Operation]
    let keys: [KeyReference]
    let localCount: Int
    /// The declared keys (including `state` keys) the program reads.
    let reads: KeySet
    /// What the program belongs to, for reports: `guard of transition fe.state A -> B`.
    let context: String
    let origin: Origin

    init(operations: [Operation], keys: [KeyReference], localCount: Int, reads: KeySet, context: String, origin: Origin) {
        self.operations = operations
        self.keys = keys
        self.localCount = localCount
        self.reads = reads
        self.context = context
        self.origin = origin
    }
}

/// A part of a compiled key pattern.
enum KeyPart {
    case literal([UInt8])
    case index(slot: Int)
}

/// A declared key, prepared for matching relative paths.
final class CompiledKey {
    let key: Key
    let directory: Int
    /// The relative path when the pattern has no index variables.
    let fixed: String?
    let segments: [[KeyPart]]
    /// `fe/ring-ref{i}` or `fe.state`.
    let name: String
    let writers: UInt32
    let initializers: UInt32
    let bounds: [(slot: Int, lower: CompiledProgram, upper: CompiledProgram)]
    let condition: CompiledProgram?
    let slotCount: Int
    /// The shape (`ring-ref{}`), to relate program references to declarations.
    let shape: String
    /// Checks values against the key's type.
    let valueCheck: ValueTypeCheck
    /// `segments`, compiled for matching relative paths.
    let matcher: KeyMatcher

    init(
        key: Key, directory: Int, fixed: String?, segments: [[KeyPart]], name: String, writers: UInt32, initializers: UInt32,
        bounds: [(slot: Int, lower: CompiledProgram, upper: CompiledProgram)], condition: CompiledProgram?, slotCount: Int,
        shape: String, states: [Int]
    ) {
        self.key = key
        self.directory = directory
        self.fixed = fixed
        self.segments = segments
        self.name = name
        self.writers = writers
        self.initializers = initializers
        self.bounds = bounds
        self.condition = condition
        self.slotCount = slotCount
        self.shape = shape
        matcher = KeyMatcher(segments: segments, slotCount: slotCount)
        valueCheck = ValueTypeCheck(key.type, states: states)
    }
}

/// A `never` guarantee, prepared.
final class NeverRule {
    let guarantee: Guarantee
    let roles: UInt32
    let operations: OperationMask
    let globs: [PathGlob]
    /// Whether every name in the globs is ASCII (paths can then be matched on bytes).
    let asciiNames: Bool
    let unless: CompiledProgram?

    init(guarantee: Guarantee, roles: UInt32, operations: OperationMask, globs: [PathGlob], unless: CompiledProgram?) {
        self.guarantee = guarantee
        self.roles = roles
        self.operations = operations
        self.globs = globs
        asciiNames = globs.allSatisfy { glob in
            glob.segments.allSatisfy { if case .literal(let name) = $0 { name.utf8.allSatisfy { $0 < 0x80 } } else { true } }
        }
        self.unless = unless
    }
}

/// An `always` guarantee, prepared.
final class AlwaysRule {
    let guarantee: Guarantee
    let program: CompiledProgram

    init(guarantee: Guarantee, program: CompiledProgram) {
        self.guarantee = guarantee
        self.program = program
    }
}

/// An expectation, prepared.
final class CompiledExpectation {
    let expectation: Expectation
    let trigger: CompiledProgram
    let condition: CompiledProgram
    /// `expect be.state == InitWait within 10s`.
    let rule: String
    /// For `blame writer`: the roles that may write what the condition reads (canonical).
    let conditionWriters: UInt32

    init(expectation: Expectation, trigger: CompiledProgram, condition: CompiledProgram, rule: String, conditionWriters: UInt32) {
        self.expectation = expectation
        self.trigger = trigger
        self.condition = condition
        self.rule = rule
        self.conditionWriters = conditionWriters
    }
}

/// A link key: a key of one directory whose value names the root of another directory of the same
/// instance (`be/frontend`, `fe/backend`), declared with `link DIR`.
struct LinkKey {
    var name: String
    var key: Int
    var target: Int
}

/// Everything the engine needs about one protocol, computed once from its definition.
final class CompiledProtocol {
    let index: Int
    let definition: ProtocolDefinition
    /// Per role: the role it stands for (an alias's target, else itself).
    let canonical: [Int]
    /// Per role: whether it is privileged.
    let privilegedRoles: UInt32
    let keys: [CompiledKey]
    /// Per directory: keys without index variables by relative path, and the others.
    let fixedKeys: [ByteTable]
    /// Per directory: the fixed slots; per key: its slot in its directory (-1: none).
    let layouts: [DirectoryLayout]
    let slotOfKey: [Int]
    /// The state values, as bits.
    let validStates: UInt32
    /// Per directory: the fixed slot of its `state` key (-1: none).
    let stateSlot: [Int]
    let patternKeys: [[Int]]
    /// Per directory: its `state` key and the machine that drives it.
    let stateKey: [Int?]
    let machineOfDirectory: [Int?]
    /// Per canonical role: the directory it owns (its "own side").
    let ownedDirectory: [Int?]
    let links: [[LinkKey]]
    /// Per directory and slot of its layout: the link (an index into `links`) whose name is the slot's
    /// path, or -1.
    let linkOfSlot: [[Int]]
    let guards: [[CompiledProgram?]]
    /// Per machine and transition: the canonical roles of its `by`.
    let transitionRoles: [[UInt32]]
    let obligations: [[CompiledProgram?]]
    /// Per declared key: the key machine that drives it (pci's `be/state-{n}`), if any.
    let keyMachineOfKey: [Int?]
    /// Per key machine, per transition: its guard (with the key's index variables as locals).
    let keyMachineGuards: [[CompiledProgram?]]
    /// Per key machine and transition: the canonical roles of its `by`.
    let keyMachineTransitionRoles: [[UInt32]]
    let nevers: [NeverRule]
    /// Per directory: the `never` guarantees with a path glob in it, in declaration order.
    let neversOfDirectory: [[NeverRule]]
    let always: [AlwaysRule]
    let expectations: [CompiledExpectation]
    /// Per turn row (`definition.turns`): its condition, which `blame turn` evaluates on the store.
    let turnConditions: [CompiledProgram?]
    /// The value of the state named `Closed` (resets `seen`), if there is one.
    let closedState: Int?
    /// Per declared key: the `always` guarantees and the expectations that read it, as bits (all
    /// bits when there are more than 64 of them).
    let alwaysReading: [UInt64]
    let expectationsReading: [UInt64]
    /// What the expectations and `always` guarantees evaluate to in each combination of machine
    /// states, as far as the states decide it; computed when the protocol's first commit needs them
    /// (a trace exercises few of the protocols).
    var stateTables: StateTables? {
        // Not a `lazy var`: its getter copies the doubly optional storage out (a retain and a
        // release) on every commit, and it is read after every one.
        if !stateTablesComputed {
            stateTablesStorage = StateTables(self)
            stateTablesComputed = true
        }
        return stateTablesStorage
    }
    @exclusivity(unchecked) private var stateTablesStorage: StateTables?
    @exclusivity(unchecked) private var stateTablesComputed = false
    /// Per directory: how many of its first fixed slots hold the keys the `always` guarantees and
    /// expectations read and its `state` key (they come first: `ReplayEngine.prefetchAhead`).
    let hotSlots: [Int]
    /// The `always` guarantees and expectations to evaluate whatever changed (they read something
    /// no declared key stands for).
    let alwaysReadingAll: UInt64
    let expectationsReadingAll: UInt64
    /// Per directory: its name.
    let directoryNames: [String]

    init(index: Int, definition: ProtocolDefinition) {
        self.index = index
        self.definition = definition
        let roles = definition.roles
        canonical = roles.indices.map { role in
            if let target = roles[role].aliasOf, target >= 0, target < roles.count { return target }
            return role
        }
        var privileged: UInt32 = 0
        for (role, value) in roles.enumerated() where value.principal == .privileged && role < 32 {
            privileged |= 1 << UInt32(canonical[role])
        }
        privilegedRoles = privileged
        directoryNames = definition.directories.map(\.name)
        let directoryCount = definition.directories.count
        closedState = definition.states.first { $0.name == "Closed" }?.value

        let canonicalOf = canonical
        func canonicalRoles(_ mask: RoleMask) -> UInt32 {
            var result: UInt32 = 0
            for role in roles.indices where role < 32 && mask.contains(role) { result |= 1 << UInt32(canonicalOf[role]) }
            return result
        }

        // Keys.
        var keys: [CompiledKey] = []
        var fixedKeys = [[Substring: Int]](repeating: [:], count: directoryCount)
        var patternKeys = [[Int]](repeating: [], count: directoryCount)
        var stateKey = [Int?](repeating: nil, count: directoryCount)
        let directoryNames = self.directoryNames
        func directoryName(_ index: Int) -> String { index >= 0 && index < directoryNames.count ? directoryNames[index] : "dir\(index)" }
        let shapes: [String] = definition.keys.map { Self.shape($0.pattern) }
        func reads(of program: Program) -> KeySet {
            var set = KeySet(count: definition.keys.count)
            for instruction in program.instructions {
                switch instruction {
                case .value(let pattern), .present(let pattern), .number(let pattern, _):
                    let shape = Self.shape(pattern)
                    var found = false
                    for (index, key) in definition.keys.enumerated()
                    where key.pattern.directory == pattern.directory && shapes[index] == shape {
                        set.insert(index)
                        found = true
                    }
                    if !found { set.insertAll() }
                case .state(let directory), .seen(let directory, _):
                    if let index = definition.keys.firstIndex(where: { $0.isState && $0.pattern.directory == directory }) {
                        set.insert(index)
                    }
                default: break
                }
            }
            return set
        }
        // The fixed slots (the layouts below number them the same way): first the keys that the
        // `always` guarantees and the expectations read, which are evaluated after commits, and the
        // `state` keys, so that they share a few cache lines at the start of a directory's slots
        // (`ReplayEngine.prefetchAhead` prefetches those lines); then the others, each in key order.
        var hot = KeySet(count: definition.keys.count)
        for guarantee in definition.guarantees {
            if case .always(let program) = guarantee.kind { hot.formUnion(reads(of: program)) }
        }
        for expectation in definition.expectations {
            hot.formUnion(reads(of: expectation.trigger))
            hot.formUnion(reads(of: expectation.condition))
        }
        var plannedSlots = [[String: Int]](repeating: [:], count: directoryCount)
        var hotSlots = [Int](repeating: 0, count: directoryCount)
        for pass in [true, false] {
            for (index, key) in definition.keys.enumerated() where key.pattern.directory >= 0 && key.pattern.directory < directoryCount {
                guard (hot.contains(index) || key.isState) == pass else { continue }
                guard key.pattern.segments.allSatisfy({ $0.allSatisfy { if case .literal = $0 { true } else { false } } }) else { continue }
                let path = key.pattern.description
                if plannedSlots[key.pattern.directory][path] == nil {
                    plannedSlots[key.pattern.directory][path] = plannedSlots[key.pattern.directory].count
                    if pass { hotSlots[key.pattern.directory] += 1 }
                }
            }
        }
        self.hotSlots = hotSlots
        func compile(_ program: Program, context: String, origin: Origin) -> CompiledProgram {
            var references: [KeyReference] = []
            func reference(_ pattern: KeyPattern) -> Int {
                let fixed =
                    pattern.segments.allSatisfy { $0.allSatisfy { if case .literal = $0 { true } else { false } } }
                    ? pattern.description : nil
                var slot = -1
                if let fixed, pattern.directory >= 0, pattern.directory < directoryCount {
                    slot = plannedSlots[pattern.directory][fixed] ?? -1
                }
                references.append(KeyReference(directory: pattern.directory, fixed: fixed, slot: slot, segments: pattern.segments))
                return references.count - 1
            }
            let operations: [Operation] = program.instructions.map { instruction in
                switch instruction {
                case .boolean(let value): .boolean(value)
                case .integer(let value): .integer(value)
                case .string(let value): .string(value)
                case .parameter(let index): .parameter(index)
                case .value(let pattern): .value(reference(pattern))
                case .present(let pattern): .present(reference(pattern))
                case .number(let pattern, let hasDefault): .number(reference(pattern), hasDefault: hasDefault)
                case .state(let directory): .state(directory)
                case .seen(let directory, let state): .seen(directory: directory, state: state)
                case .makeSet(let count): .makeSet(count)
                case .member: .member
                case .inRange: .inRange
                case .binary(let operation): .binary(operation)
                case .not: .not
                case .powerOfTwo: .powerOfTwo
                case .store(let slot): .store(slot)
                case .load(let slot): .load(slot)
                case .jump(let target): .jump(target)
                case .jumpIfFalse(let target): .jumpIfFalse(target)
                case .pop: .pop
                }
            }
            return CompiledProgram(
                operations: Self.foldConstantSets(operations), keys: references, localCount: max(0, program.localCount),
                reads: reads(of: program),
                context: context, origin: origin)
        }

        for (index, key) in definition.keys.enumerated() {
            let directory = key.pattern.directory
            let name = key.isState ? "\(directoryName(directory)).state" : "\(directoryName(directory))/\(key.pattern)"
            var segments: [[KeyPart]] = []
            var slotCount = 0
            for parts in key.pattern.segments {
                segments.append(
                    parts.map { part in
                        switch part {
                        case .literal(let text): return .literal(Array(text.utf8))
                        case .index(let slot, _):
                            slotCount = max(slotCount, slot + 1)
                            return .index(slot: slot)
                        }
                    })
            }
            for variable in key.indices { slotCount = max(slotCount, variable.slot + 1) }
            let isFixed = segments.allSatisfy { $0.allSatisfy { if case .literal = $0 { true } else { false } } }
            let fixed = isFixed ? key.pattern.description : nil
            let compiled = CompiledKey(
                key: key, directory: directory, fixed: fixed, segments: segments, name: name, writers: canonicalRoles(key.writers),
                initializers: canonicalRoles(key.initializers),
                bounds: key.indices.map {
                    (
                        $0.slot, compile($0.lower, context: "lower bound of \($0.name) in key \(name)", origin: key.origin),
                        compile($0.upper, context: "upper bound of \($0.name) in key \(name)", origin: key.origin)
                    )
                },
                condition: key.condition.map { compile($0, context: "condition of key \(name)", origin: key.origin) },
                slotCount: slotCount, shape: shapes[index], states: definition.states.map(\.value))
            keys.append(compiled)
            guard directory >= 0, directory < directoryCount else { continue }
            if key.isState && stateKey[directory] == nil { stateKey[directory] = index }
            if let fixed {
                if fixedKeys[directory][Substring(fixed)] == nil { fixedKeys[directory][Substring(fixed)] = index }
            } else {
                patternKeys[directory].append(index)
            }
        }
        self.keys = keys
        self.fixedKeys = fixedKeys.map { table in ByteTable(table.sorted { $0.value < $1.value }.map { (String($0.key), $0.value) }) }
        var slotOfKey = [Int](repeating: -1, count: keys.count)
        var layouts: [DirectoryLayout] = []
        for directory in 0..<directoryCount {
            let planned = plannedSlots[directory]
            let members = fixedKeys[directory].sorted {
                (planned[String($0.key)] ?? .max, $0.value) < (planned[String($1.key)] ?? .max, $1.value)
            }
            for (slot, member) in members.enumerated() { slotOfKey[member.value] = slot }
            layouts.append(DirectoryLayout(paths: members.map { String($0.key) }, keys: members.map(\.value)))
        }
        self.slotOfKey = slotOfKey
        self.layouts = layouts
        stateSlot = stateKey.map { $0.map { slotOfKey[$0] } ?? -1 }
        var validStates: UInt32 = 0
        for state in definition.states where state.value >= 0 && state.value < 32 { validStates |= 1 << UInt32(state.value) }
        self.validStates = validStates
        self.patternKeys = patternKeys
        self.stateKey = stateKey

        // Machines.
        var machineOfDirectory = [Int?](repeating: nil, count: directoryCount)
        var guards: [[CompiledProgram?]] = []
        var obligations: [[CompiledProgram?]] = []
        for (index, machine) in definition.machines.enumerated() {
            if machine.directory >= 0, machine.directory < directoryCount, machineOfDirectory[machine.directory] == nil {
                machineOfDirectory[machine.directory] = index
            }
            let machineName = "\(directoryName(machine.directory)).state"
            guards.append(
                machine.transitions.map { transition in
                    transition.guardProgram.map {
                        compile(
                            $0, context: "guard of \(Self.transitionName(definition, machineName, transition))", origin: transition.origin)
                    }
                })
            obligations.append(
                machine.transitions.map { transition in
                    transition.obligation.map {
                        compile(
                            $0, context: "obligation of \(Self.transitionName(definition, machineName, transition))",
                            origin: transition.origin)
                    }
                })
        }
        self.machineOfDirectory = machineOfDirectory
        transitionRoles = definition.machines.map { machine in machine.transitions.map { canonicalRoles($0.by) } }
        self.guards = guards
        self.obligations = obligations
        var keyMachineOfKey = [Int?](repeating: nil, count: definition.keys.count)
        var keyMachineGuards: [[CompiledProgram?]] = []
        for (index, machine) in definition.keyMachines.enumerated() {
            if machine.key >= 0, machine.key < keyMachineOfKey.count, keyMachineOfKey[machine.key] == nil {
                keyMachineOfKey[machine.key] = index
            }
            let machineName = Self.keyMachineName(definition, machine)
            keyMachineGuards.append(
                machine.transitions.map { transition in
                    transition.guardProgram.map {
                        compile(
                            $0, context: "guard of \(Self.transitionName(definition, machineName, transition))", origin: transition.origin)
                    }
                })
        }
        self.keyMachineOfKey = keyMachineOfKey
        self.keyMachineGuards = keyMachineGuards
        keyMachineTransitionRoles = definition.keyMachines.map { machine in machine.transitions.map { canonicalRoles($0.by) } }

        var owned = [Int?](repeating: nil, count: roles.count)
        for (index, directory) in definition.directories.enumerated() where directory.owner >= 0 && directory.owner < roles.count {
            let role = canonicalOf[directory.owner]
            if owned[role] == nil { owned[role] = index }
        }
        ownedDirectory = owned

        // Link keys: the keys declared `link DIR` (`key be/frontend : xspath init toolstack link fe;`).
        var links = [[LinkKey]](repeating: [], count: directoryCount)
        for (keyIndex, key) in definition.keys.enumerated() {
            let directory = key.pattern.directory
            guard let target = key.link, directory >= 0, directory < directoryCount, target >= 0, target < directoryCount,
                target != directory, key.indices.isEmpty, !key.isState
            else { continue }
            links[directory].append(LinkKey(name: key.pattern.description, key: keyIndex, target: target))
        }
        self.links = links
        linkOfSlot = (0..<directoryCount).map { directory in
            layouts[directory].paths.map { path in links[directory].firstIndex { $0.name == path } ?? -1 }
        }

        // Guarantees and expectations.
        var nevers: [NeverRule] = []
        var always: [AlwaysRule] = []
        for guarantee in definition.guarantees {
            switch guarantee.kind {
            case .never(let roles, let operations, let paths, let unless):
                nevers.append(
                    NeverRule(
                        guarantee: guarantee, roles: canonicalRoles(roles), operations: operations, globs: paths,
                        unless: unless.map { compile($0, context: "unless of guarantee \(guarantee.name)", origin: guarantee.origin) }))
            case .always(let program):
                always.append(
                    AlwaysRule(
                        guarantee: guarantee, program: compile(program, context: "guarantee \(guarantee.name)", origin: guarantee.origin)))
            }
        }
        self.nevers = nevers
        neversOfDirectory = (0..<directoryCount).map { directory in nevers.filter { $0.globs.contains { $0.directory == directory } } }
        self.always = always
        expectations = definition.expectations.map { expectation in
            let rule = "expect \(expectation.summary) within \(ReplayTime.duration(expectation.milliseconds))"
            let condition = compile(expectation.condition, context: "condition of \(rule)", origin: expectation.origin)
            var writers: UInt32 = 0
            for (index, key) in definition.keys.enumerated() where condition.reads.contains(index) {
                writers |= canonicalRoles(key.writers)
            }
            return CompiledExpectation(
                expectation: expectation, trigger: compile(expectation.trigger, context: "trigger of \(rule)", origin: expectation.origin),
                condition: condition, rule: rule, conditionWriters: writers)
        }
        turnConditions = definition.turns.map { turn in
            turn.condition.map {
                let state = "(\(definition.stateName(turn.frontendState)), \(definition.stateName(turn.backendState)))"
                return compile($0.program, context: "condition of turn row \(state) if \($0.text)", origin: definition.origin)
            }
        }
        let keyCount = definition.keys.count
        func masks(_ programs: [[CompiledProgram]]) -> ([UInt64], UInt64) {
            guard programs.count <= 64 else { return ([UInt64](repeating: .max, count: keyCount), .max) }
            var perKey = [UInt64](repeating: 0, count: keyCount)
            var all: UInt64 = 0
            for (index, group) in programs.enumerated() {
                let bit: UInt64 = 1 << UInt64(index)
                if group.contains(where: { $0.reads.all }) {
                    all |= bit
                    continue
                }
                for key in 0..<keyCount where group.contains(where: { $0.reads.contains(key) }) { perKey[key] |= bit }
            }
            return (perKey, all)
        }
        (alwaysReading, alwaysReadingAll) = masks(always.map { [$0.program] })
        (expectationsReading, expectationsReadingAll) = masks(expectations.map { [$0.trigger, $0.condition] })
    }

    /// `{InitWait, Initialised}` of constants becomes one precomputed set: the first element's push
    /// jumps to the `makeSet`, which pushes the set. Only when no jump lands inside the literal.
    static func foldConstantSets(_ operations: [Operation]) -> [Operation] {
        var result = operations
        var targets = Set<Int>()
        for operation in operations {
            switch operation {
            case .jump(let target), .jumpIfFalse(let target): targets.insert(target)
            default: break
            }
        }
        for (index, operation) in operations.enumerated() {
            guard case .makeSet(let count) = operation, count >= 1, index - count >= 0 else { continue }
            var elements: [Value] = []
            for element in operations[(index - count)..<index] {
                switch element {
                case .boolean(let value): elements.append(.bool(value))
                case .integer(let value): elements.append(.int(value))
                case .string(let value): elements.append(.string(value))
                default: break
                }
            }
            guard elements.count == count, !((index - count + 1)...index).contains(where: { targets.contains($0) }) else { continue }
            result[index - count] = .jump(index)
            result[index] = .constant(.set(elements))
        }
        return result
    }

    /// `be/state-{n}`: how reports name a key machine.
    static func keyMachineName(_ definition: ProtocolDefinition, _ machine: Machine) -> String {
        guard definition.directories.indices.contains(machine.directory), definition.keys.indices.contains(machine.key) else {
            return "key machine"
        }
        return "\(definition.directories[machine.directory].name)/\(definition.keys[machine.key].pattern)"
    }

    static func transitionName(_ definition: ProtocolDefinition, _ machine: String, _ transition: Transition) -> String {
        let from =
            transition.from == .all
            ? "*" : definition.states.filter { transition.from.contains($0.value) }.map(\.name).joined(separator: ",")
        return "transition \(machine) \(from.contains(",") ? "{\(from)}" : from) -> \(definition.stateName(transition.to))"
    }

    /// `ring-ref{}`: the pattern with its index variables blanked.
    static func shape(_ pattern: KeyPattern) -> String {
        pattern.segments.map { parts in
            parts.map {
                switch $0 {
                case .literal(let text): text
                case .index: "{}"
                }
            }.joined()
        }.joined(separator: "/")
    }

    /// The canonical roles of a role mask.
    func canonicalMask(_ mask: RoleMask) -> UInt32 {
        var result: UInt32 = 0
        for role in canonical.indices where role < 32 && mask.contains(role) { result |= 1 << UInt32(canonical[role]) }
        return result
    }

    /// The names of the canonical roles in a mask, in declaration order.
    func roleNames(_ mask: UInt32) -> [String] {
        definition.roles.indices.filter { $0 < 32 && mask & (1 << UInt32($0)) != 0 }.map { definition.roles[$0].name }
    }
}
