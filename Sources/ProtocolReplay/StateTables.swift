import ProtocolModel

/// Three-valued answers about a program in a global state: false, true, or it depends on keys.
enum Truth: UInt8 {
    case no = 0
    case yes = 1
    case maybe = 2
}

/// For a protocol with one or two state machines, what each expectation's trigger and condition and
/// each `always` guarantee evaluate to in each combination of machine states, as far as the states
/// alone decide it. After a commit, an expectation whose trigger cannot hold in the current states is
/// disarmed without running its program; only the few that may hold are evaluated.
///
/// Computed by abstract interpretation of the bytecode: states are known, key values, `seen` and
/// parameters are unknown; a conditional jump on an unknown value follows both branches (up to a
/// budget); a backward jump (a `forall`) or any doubt gives `maybe`.
final class StateTables {
    /// The directories of the machines whose states index the tables (one or two).
    let directories: [Int]
    /// Per expectation: trigger and condition, indexed by `index(states)`.
    let triggers: [[Truth]]
    let conditions: [[Truth]]
    /// Per `always` guarantee.
    let always: [[Truth]]

    static let width = 32

    init?(_ compiled: CompiledProtocol) {
        let machines = compiled.definition.machines
        guard (1...2).contains(machines.count) else { return nil }
        let directories = machines.map(\.directory)
        guard directories.allSatisfy({ $0 >= 0 && $0 < compiled.definition.directories.count }), Set(directories).count == directories.count
        else { return nil }
        self.directories = directories
        let states = compiled.definition.states.map(\.value).filter { $0 >= 0 && $0 < Self.width } + [0]
        let combinations: [[Int]] =
            directories.count == 1 ? states.map { [$0] } : states.flatMap { a in states.map { b in [a, b] } }
        func table(_ program: CompiledProgram) -> [Truth] {
            var result = [Truth](repeating: .maybe, count: Self.width * Self.width)
            // The abstract evaluator sees the states only through `state(d)`: combinations that agree
            // on the directories the program reads give the same answer, so evaluate each once.
            var read = [Bool](repeating: false, count: compiled.definition.directories.count)
            for operation in program.operations {
                if case .state(let directory) = operation, directory >= 0, directory < read.count { read[directory] = true }
            }
            // Answers by the read states (`width` for a state not read), as `Truth` raw values; 255: not yet.
            var answers = [UInt8](repeating: 255, count: (Self.width + 1) * (Self.width + 1))
            var known = [Int?](repeating: nil, count: compiled.definition.directories.count)
            for combination in combinations {
                var projection = 0
                for (directory, state) in zip(directories, combination) {
                    known[directory] = state
                    projection = projection * (Self.width + 1) + (read[directory] ? state : Self.width)
                }
                if answers[projection] == 255 {
                    var evaluator = AbstractEvaluator(program: program, states: known)
                    answers[projection] = evaluator.truth().rawValue
                }
                result[Self.index(combination)] = Truth(rawValue: answers[projection]) ?? .maybe
            }
            return result
        }
        triggers = compiled.expectations.map { table($0.trigger) }
        conditions = compiled.expectations.map { table($0.condition) }
        always = compiled.always.map { table($0.program) }
    }

    static func index(_ states: [Int]) -> Int {
        states.count == 1 ? states[0] : states[0] * width + states[1]
    }

    /// The table index of an instance's current states (-1: a state outside the tables).
    func index(of instance: Instance) -> Int {
        var result = 0
        for directory in directories {
            let state = instance.states[directory]
            guard state >= 0, state < Self.width else { return -1 }
            result = result * Self.width + state
        }
        return result
    }
}

/// The abstract interpreter behind `StateTables`.
struct AbstractEvaluator {
    enum Value: Equatable {
        case int(Int128)
        case string(String)
        case bool(Bool)
        case set([Value])
        case unknown
    }

    let program: CompiledProgram
    let states: [Int?]
    /// Paths explored at most (each unknown condition doubles them).
    var budget = 256

    init(program: CompiledProgram, states: [Int?]) {
        self.program = program
        self.states = states
    }

    mutating func truth() -> Truth {
        var outcomes: Set<UInt8> = []
        var pending: [(pc: Int, stack: [Value], locals: [Value])] = [
            (0, [], [Value](repeating: .unknown, count: min(program.localCount, 64)))
        ]
        while var path = pending.popLast() {
            budget -= 1
            guard budget >= 0 else { return .maybe }
            let operations = program.operations
            var steps = 0
            run: while path.pc < operations.count {
                steps += 1
                guard steps < 10_000, path.stack.count < 256 else { return .maybe }
                func pop() -> Value? { path.stack.popLast() }
                switch operations[path.pc] {
                case .boolean(let value): path.stack.append(.bool(value))
                case .integer(let value): path.stack.append(.int(value))
                case .string(let value): path.stack.append(.string(value))
                case .parameter, .value, .present, .seen: path.stack.append(.unknown)
                case .number(_, let hasDefault):
                    if hasDefault { guard pop() != nil else { return .maybe } }
                    path.stack.append(.unknown)
                case .state(let directory):
                    guard directory >= 0, directory < states.count, let state = states[directory] else { return .maybe }
                    path.stack.append(.int(Int128(state)))
                case .makeSet(let count):
                    guard count >= 0, count <= path.stack.count else { return .maybe }
                    let elements = Array(path.stack.suffix(count))
                    path.stack.removeLast(count)
                    path.stack.append(elements.contains(.unknown) ? .unknown : .set(elements))
                case .constant(let value):
                    switch value {
                    case .set(let elements):
                        var abstract: [Value] = []
                        for element in elements {
                            switch element {
                            case .int(let number): abstract.append(.int(number))
                            case .string(let text): abstract.append(.string(text))
                            case .bool(let flag): abstract.append(.bool(flag))
                            default: return .maybe
                            }
                        }
                        path.stack.append(.set(abstract))
                    default: return .maybe
                    }
                case .member:
                    guard let set = pop(), let element = pop() else { return .maybe }
                    guard case .set(let elements) = set, element != .unknown else {
                        path.stack.append(.unknown)
                        break
                    }
                    path.stack.append(.bool(elements.contains(element)))
                case .inRange:
                    guard let upper = pop(), let lower = pop(), let value = pop() else { return .maybe }
                    if case .int(let v) = value, case .int(let l) = lower, case .int(let u) = upper {
                        path.stack.append(.bool(l <= v && v < u))
                    } else {
                        path.stack.append(.unknown)
                    }
                case .binary(let operation):
                    guard let rhs = pop(), let lhs = pop() else { return .maybe }
                    switch (operation, lhs, rhs) {
                    case (.equal, .int(let a), .int(let b)): path.stack.append(.bool(a == b))
                    case (.notEqual, .int(let a), .int(let b)): path.stack.append(.bool(a != b))
                    case (.less, .int(let a), .int(let b)): path.stack.append(.bool(a < b))
                    case (.lessEqual, .int(let a), .int(let b)): path.stack.append(.bool(a <= b))
                    case (.greater, .int(let a), .int(let b)): path.stack.append(.bool(a > b))
                    case (.greaterEqual, .int(let a), .int(let b)): path.stack.append(.bool(a >= b))
                    case (.equal, .bool(let a), .bool(let b)): path.stack.append(.bool(a == b))
                    case (.notEqual, .bool(let a), .bool(let b)): path.stack.append(.bool(a != b))
                    default: path.stack.append(.unknown)
                    }
                case .not:
                    guard let value = pop() else { return .maybe }
                    if case .bool(let flag) = value { path.stack.append(.bool(!flag)) } else { path.stack.append(.unknown) }
                case .powerOfTwo:
                    guard pop() != nil else { return .maybe }
                    path.stack.append(.unknown)
                case .store(let slot):
                    guard slot >= 0, slot < path.locals.count, let value = pop() else { return .maybe }
                    path.locals[slot] = value
                case .load(let slot):
                    guard slot >= 0, slot < path.locals.count else { return .maybe }
                    path.stack.append(path.locals[slot])
                case .jump(let target):
                    guard target > path.pc, target <= operations.count else { return .maybe }
                    path.pc = target
                    continue run
                case .jumpIfFalse(let target):
                    guard target > path.pc, target <= operations.count, let condition = pop() else { return .maybe }
                    switch condition {
                    case .bool(false):
                        path.pc = target
                        continue run
                    case .bool(true):
                        break
                    case .unknown:
                        var other = path
                        other.pc = target
                        pending.append(other)
                    default:
                        return .maybe
                    }
                case .pop:
                    guard pop() != nil else { return .maybe }
                }
                path.pc += 1
            }
            switch path.stack.last {
            case .bool(let value)?: outcomes.insert(value ? 1 : 0)
            default: return .maybe
            }
            if outcomes.count > 1 { return .maybe }
        }
        guard outcomes.count == 1, let only = outcomes.first else { return .maybe }
        return only == 1 ? .yes : .no
    }
}
