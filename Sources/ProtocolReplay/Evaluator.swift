import ProtocolModel

/// A value of the bytecode machine.
enum Value {
    case int(Int128)
    case string(String)
    case bool(Bool)
    case set([Value])
    case absent
}

/// Why an evaluation failed; the expression is then taken as false and a finding reported.
struct EvaluationError: Error {
    var message: String
}

/// The bytecode interpreter: evaluates a compiled program against an instance's store. Values are
/// integers (`Int128`), strings, booleans, sets and `absent` (a missing key); see `docs/replay.md`
/// for the semantics of each instruction on each kind of value. It never traps: malformed programs
/// (bad jumps, stack underflow, unknown slots), overflow and runaway loops become `EvaluationError`s.
final class Evaluator {
    /// Backward jumps allowed in one evaluation (the `forall` loops).
    let maximumIterations: Int
    /// Instructions executed in one evaluation.
    let maximumSteps: Int
    static let maximumStack = 4096
    static let maximumLocals = 4096

    /// The operand stack and the local slots, allocated once.
    private let stack: UnsafeMutablePointer<Value>
    private var depth = 0
    private let locals: UnsafeMutablePointer<Value>
    private var localCount = 0

    init(maximumIterations: Int) {
        self.maximumIterations = maximumIterations
        self.maximumSteps = max(1_000_000, maximumIterations * 64)
        stack = .allocate(capacity: Self.maximumStack)
        locals = .allocate(capacity: Self.maximumLocals)
    }

    deinit {
        reset()
        stack.deallocate()
        locals.deallocate()
    }

    private func reset() {
        // One by one, in code specialised for `Value`: `deinitialize(count:)` destroys through the
        // runtime's generic array witness, twice per evaluation.
        while depth > 0 {
            depth &-= 1
            _ = (stack + depth).move()
        }
        while localCount > 0 {
            localCount &-= 1
            _ = (locals + localCount).move()
        }
    }

    /// Reports `val(k)` of a value that is not a decimal number: instance, directory, relative path, entry.
    typealias NonDecimalHandler = (Instance, Int, String, Entry) -> Void
    /// Called for `val(k)` of a value that is not a decimal number.
    var nonDecimal: NonDecimalHandler?

    /// Evaluates `program` against `instance`, with local slots `0..<presets.count` preset (key index
    /// variables).
    func evaluate(_ program: CompiledProgram, _ instance: Instance, presets: [Int] = []) -> Result<Value, EvaluationError> {
        let slotCount = max(program.localCount, presets.count)
        guard slotCount <= Self.maximumLocals else {
            return .failure(EvaluationError(message: "the program uses \(slotCount) local slots"))
        }
        // One by one, specialised for `Value` (as `reset()` destroys them).
        while localCount < slotCount {
            (locals + localCount).initialize(to: .absent)
            localCount &+= 1
        }
        for (slot, value) in presets.enumerated() { locals[slot] = .int(Int128(value)) }
        // The stack and the locals are emptied once, after the run: every evaluation leaves them so.
        let result: Result<Value, EvaluationError>
        do throws(EvaluationError) {
            result = .success(
                try program.operations.withUnsafeBufferPointer { operations throws(EvaluationError) in
                    try run(operations, program, instance)
                })
        } catch {
            result = .failure(error)
        }
        reset()
        return result
    }

    /// Runs the operations; the stack and locals are left for `evaluate` to empty. Typed throws: an
    /// error is a plain return, not a boxed existential.
    private func run(_ operations: UnsafeBufferPointer<Operation>, _ program: CompiledProgram, _ instance: Instance) throws(EvaluationError)
        -> Value
    {
        var pc = 0
        var steps = 0
        var iterations = 0
        // Between two backward jumps the program counter only grows, so at most
        // `count * (maximumIterations + 1)` instructions run before the loop limit stops the run: when
        // that is within `maximumSteps` (every program of up to 63 instructions), counting is moot.
        let (bound, overflow) = operations.count.multipliedReportingOverflow(by: maximumIterations &+ 1)
        let countSteps = overflow || bound > maximumSteps
        while pc < operations.count {
            if countSteps {
                steps += 1
                if steps > maximumSteps { throw EvaluationError(message: "more than \(maximumSteps) instructions executed") }
            }
            switch operations[pc] {
            case .boolean(let value): try push(.bool(value))
            case .integer(let value): try push(.int(value))
            case .string(let value): try push(.string(value))
            case .parameter(let index):
                if index >= 0, index < instance.parameters.count, instance.parameters[index] >= 0 {
                    try push(.int(Int128(instance.parameters[index])))
                } else {
                    try push(.absent)
                }
            case .value(let reference):
                let value: String?
                if let fixed = fixedValue(program, reference, instance) {
                    value = fixed
                } else if let (_, _, entry) = lookup(program, reference, instance) {
                    value = entry.value
                } else {
                    value = nil
                }
                // `k == "text"` / `k != "text"` in one go: what the three instructions compute (an
                // absent key equals no string), without their pushes, pops and dispatches.
                if pc &+ 2 < operations.count, case .string(let text) = operations[pc &+ 1],
                    case .binary(let operation) = operations[pc &+ 2], operation == .equal || operation == .notEqual,
                    canFuse(depth: depth, steps: &steps, countSteps: countSteps)
                {
                    try push(.bool((value == text) == (operation == .equal)))
                    pc &+= 3
                    continue
                }
                try push(value.map { .string($0) } ?? .absent)
            case .present(let reference):
                if let value = fixedValue(program, reference, instance) {
                    try push(.bool(value != nil))
                } else {
                    try push(.bool(lookup(program, reference, instance) != nil))
                }
            case .number(let reference, let hasDefault):
                try number(reference, hasDefault: hasDefault, program, instance)
            case .state(let directory):
                guard directory >= 0, directory < instance.states.count else {
                    throw EvaluationError(message: "no directory \(directory)")
                }
                let state = Int128(instance.states[directory])
                // `d.state == Connected` (or another operation with a constant) in one go.
                if pc &+ 2 < operations.count, case .integer(let constant) = operations[pc &+ 1],
                    case .binary(let operation) = operations[pc &+ 2],
                    canFuse(depth: depth, steps: &steps, countSteps: countSteps)
                {
                    try push(Self.integerBinary(operation, state, constant))
                    pc &+= 3
                    continue
                }
                try push(.int(state))
            case .seen(let directory, let state):
                guard directory >= 0, directory < instance.seen.count else {
                    throw EvaluationError(message: "no directory \(directory)")
                }
                try push(.bool(state >= 0 && state < 32 && instance.seen[directory] & (1 << UInt32(state)) != 0))
            case .makeSet(let count):
                try makeSet(count)
            case .member:
                try member()
            case .inRange:
                try inRange()
            case .binary(let operation):
                guard depth >= 2 else { throw EvaluationError(message: "stack underflow") }
                // The common operands are compared in place: no moves of the 32-byte values, no
                // copies (and retains) for `equal`'s tuple.
                let rhs = stack + (depth &- 1)
                let lhs = rhs - 1
                if case .int(let y) = rhs.pointee, case .int(let x) = lhs.pointee {
                    // Integers are trivial: overwritten without being destroyed.
                    lhs.initialize(to: try Self.integerBinary(operation, x, y))
                    depth &-= 1
                } else if operation == .equal || operation == .notEqual, case .string(let y) = rhs.pointee,
                    case .string(let x) = lhs.pointee
                {
                    let same = x == y
                    rhs.deinitialize(count: 1)
                    lhs.pointee = .bool(same == (operation == .equal))
                    depth &-= 1
                } else {
                    let right = try pop()
                    let left = try pop()
                    try push(Self.binary(operation, left, right))
                }
            case .not:
                // A boolean is negated in place (booleans are trivial).
                if depth > 0, case .bool(let value) = stack[depth &- 1] {
                    stack[depth &- 1] = .bool(!value)
                    break
                }
                switch try pop() {
                case .bool(let value): try push(.bool(!value))
                case .absent: try push(.bool(true))
                default: throw EvaluationError(message: "'!' needs a boolean")
                }
            case .powerOfTwo:
                try powerOfTwo()
            case .store(let slot):
                guard slot >= 0, slot < localCount else { throw EvaluationError(message: "no local slot \(slot)") }
                locals[slot] = try pop()
            case .load(let slot):
                guard slot >= 0, slot < localCount else { throw EvaluationError(message: "no local slot \(slot)") }
                try push(locals[slot])
            case .jump(let target):
                pc = try jump(to: target, from: pc, count: operations.count, iterations: &iterations)
                continue
            case .jumpIfFalse(let target):
                // A boolean condition is dropped without moving it out (booleans are trivial).
                if depth > 0, case .bool(let value) = stack[depth &- 1] {
                    if !value {
                        depth &-= 1
                        pc = try jump(to: target, from: pc, count: operations.count, iterations: &iterations)
                        continue
                    }
                    // `a || b` with `a` true: the `boolean(true)` and `jump(end)` that follow replace
                    // the condition in place (no room needed: one value is popped, one pushed).
                    if pc &+ 2 < operations.count, case .boolean(let constant) = operations[pc &+ 1],
                        case .jump(let end) = operations[pc &+ 2],
                        canFuse(depth: 0, steps: &steps, countSteps: countSteps)
                    {
                        stack[depth &- 1] = .bool(constant)
                        pc = try jump(to: end, from: pc &+ 2, count: operations.count, iterations: &iterations)
                        continue
                    }
                    depth &-= 1
                    break
                }
                let condition = try pop()
                let taken: Bool
                switch condition {
                case .bool(let value): taken = !value
                case .absent: taken = true
                default: throw EvaluationError(message: "a condition is not a boolean")
                }
                if taken {
                    pc = try jump(to: target, from: pc, count: operations.count, iterations: &iterations)
                    continue
                }
            case .pop:
                _ = try pop()
            case .constant(let value):
                try push(value)
            }
            pc += 1
        }
        guard depth > 0 else { throw EvaluationError(message: "the program left no value") }
        return stack[depth - 1]
    }

    // The rarer instructions, out of line: inlined, their code crowds the hot loop's registers
    // (measured: fewer instructions per evaluation with them outside `run`).

    /// `number`: `val(k)`, or `val(k, d)` with the default on the stack.
    @inline(never)
    private func number(_ reference: Int, hasDefault: Bool, _ program: CompiledProgram, _ instance: Instance) throws(EvaluationError) {
        let fallback: Value = hasDefault ? try pop() : .absent
        if let value = fixedValue(program, reference, instance), let text = value, let number = Self.decimal(text) {
            try push(.int(number))
        } else if let (directory, path, entry) = lookup(program, reference, instance) {
            if let number = Self.decimal(entry.value) {
                try push(.int(number))
            } else {
                nonDecimal?(instance, directory, path, entry)
                try push(fallback)
            }
        } else {
            try push(fallback)
        }
    }

    /// `makeSet`: the top `count` values become a set.
    @inline(never)
    private func makeSet(_ count: Int) throws(EvaluationError) {
        guard count >= 0, count <= depth else { throw EvaluationError(message: "stack underflow") }
        var elements: [Value] = []
        elements.reserveCapacity(count)
        for index in (depth - count)..<depth { elements.append((stack + index).move()) }
        depth -= count
        // Set literals hold scalars; nesting would let a loop build values whose release
        // recurses without bound.
        if elements.contains(where: { if case .set = $0 { true } else { false } }) {
            throw EvaluationError(message: "a set cannot contain a set")
        }
        try push(.set(elements))
    }

    /// `member`: whether the value below the top is in the set on top.
    @inline(never)
    private func member() throws(EvaluationError) {
        let set = try pop()
        let element = try pop()
        switch set {
        case .set(let elements): try push(.bool(elements.contains { Self.equal($0, element) }))
        case .absent: try push(.bool(false))
        default: try push(.bool(Self.equal(set, element)))
        }
    }

    /// `inRange`: whether a value is in `[lower, upper)` (the top three values).
    @inline(never)
    private func inRange() throws(EvaluationError) {
        let upper = try pop()
        let lower = try pop()
        let value = try pop()
        if case .absent = value {
            try push(.bool(false))
        } else if case .absent = lower {
            try push(.bool(false))
        } else if case .absent = upper {
            try push(.bool(false))
        } else {
            guard let v = Self.numeric(value), let l = Self.numeric(lower), let u = Self.numeric(upper) else {
                throw EvaluationError(message: "'in [..)' needs numbers")
            }
            try push(.bool(l <= v && v < u))
        }
    }

    /// `powerOfTwo`: whether the top value is a power of two.
    @inline(never)
    private func powerOfTwo() throws(EvaluationError) {
        let value = try pop()
        if case .absent = value {
            try push(.bool(false))
        } else {
            guard let n = Self.numeric(value) else { throw EvaluationError(message: "pow2 needs a number") }
            try push(.bool(n > 0 && n & (n - 1) == 0))
        }
    }

    /// Whether the two instructions after the current one may run fused with it: as separately, they
    /// must find room for two values on the stack and stay within `maximumSteps` (then counted here);
    /// otherwise they run one by one and fail where they would.
    @inline(__always)
    private func canFuse(depth: Int, steps: inout Int, countSteps: Bool) -> Bool {
        guard depth < Self.maximumStack - 1 else { return false }
        if countSteps {
            guard steps <= maximumSteps - 2 else { return false }
            steps += 2
        }
        return true
    }

    private func jump(to target: Int, from pc: Int, count: Int, iterations: inout Int) throws(EvaluationError) -> Int {
        guard target >= 0, target <= count else { throw EvaluationError(message: "jump to \(target) is outside the program") }
        if target <= pc {
            iterations += 1
            if iterations > maximumIterations {
                throw EvaluationError(message: "a loop ran more than \(maximumIterations) iterations")
            }
        }
        return target
    }

    @inline(__always)
    private func push(_ value: Value) throws(EvaluationError) {
        guard depth < Self.maximumStack else { throw EvaluationError(message: "stack overflow") }
        (stack + depth).initialize(to: value)
        depth += 1
    }

    @inline(__always)
    private func pop() throws(EvaluationError) -> Value {
        guard depth > 0 else { throw EvaluationError(message: "stack underflow") }
        depth -= 1
        return (stack + depth).move()
    }

    /// For a reference to a fixed slot: the slot's value (`.some(nil)` when the node is absent),
    /// read in place without copying its entry; `nil` for other references (use `lookup`).
    @inline(__always)
    private func fixedValue(_ program: CompiledProgram, _ index: Int, _ instance: Instance) -> String?? {
        guard index >= 0, index < program.keys.count else { return nil }
        // Field by field: copying the whole reference would retain its path and segments.
        let slot = program.keys[index].slot
        let directoryIndex = program.keys[index].directory
        guard slot >= 0, directoryIndex >= 0, directoryIndex < instance.directories.count else { return nil }
        let directory = instance.directories[directoryIndex]
        guard slot < directory.fixed.count else { return nil }
        return .some(directory.fixed[slot]?.value)
    }

    /// The relative path a key reference denotes with the current locals, and its entry if present.
    private func lookup(_ program: CompiledProgram, _ index: Int, _ instance: Instance) -> (Int, String, Entry)? {
        guard index >= 0, index < program.keys.count else { return nil }
        let reference = program.keys[index]
        guard reference.directory >= 0, reference.directory < instance.directories.count else { return nil }
        let directory = instance.directories[reference.directory]
        if reference.slot >= 0 {
            guard reference.slot < directory.fixed.count, let entry = directory.fixed[reference.slot] else { return nil }
            return (reference.directory, reference.fixed ?? "", entry)
        }
        let path: String
        if let fixed = reference.fixed {
            path = fixed
        } else {
            var built = ""
            for (position, parts) in reference.segments.enumerated() {
                if position > 0 { built += "/" }
                for part in parts {
                    switch part {
                    case .literal(let text): built += text
                    case .index(let slot, _):
                        guard slot >= 0, slot < localCount, case .int(let value) = locals[slot], value >= 0 else { return nil }
                        built += String(value)
                    }
                }
            }
            path = built
        }
        guard let entry = directory[path] else { return nil }
        return (reference.directory, path, entry)
    }

    // MARK: - Value semantics

    /// A decimal number: digits only (at most 38), as xenstore stores numbers.
    static func decimal(_ text: String) -> Int128? {
        if let result = text.utf8.withContiguousStorageIfAvailable(decimal(bytes:)) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(decimal(bytes:))
    }

    /// `decimal(_:)` of UTF-8 bytes. Most values are a few digits: up to 18 of them are summed in a
    /// `UInt64`, which cannot overflow there and costs a fraction of `Int128` arithmetic (every
    /// state write and every `uint` key's value goes through here).
    static func decimal(bytes: UnsafeBufferPointer<UInt8>) -> Int128? {
        guard !bytes.isEmpty, bytes.count <= 38 else { return nil }
        if bytes.count <= 18 {
            var value: UInt64 = 0
            for byte in bytes {
                let digit = byte &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value &* 10 &+ UInt64(digit)
            }
            return Int128(value)
        }
        var value: Int128 = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int128(digit)
        }
        return value
    }

    static func numeric(_ value: Value) -> Int128? {
        switch value {
        case .int(let number): number
        case .string(let text): decimal(text)
        default: nil
        }
    }

    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.absent, .absent): true
        case (.absent, _), (_, .absent): false
        case (.int(let x), .int(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .string(let y)), (.string(let y), .int(let x)): decimal(y) == x
        case (.set(let x), .set(let y)):
            x.allSatisfy { element in y.contains { equal(element, $0) } } && y.allSatisfy { element in x.contains { equal(element, $0) } }
        default: false
        }
    }

    static func binary(_ operation: BinaryOperation, _ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        switch operation {
        case .equal: return .bool(equal(lhs, rhs))
        case .notEqual: return .bool(!equal(lhs, rhs))
        case .less, .lessEqual, .greater, .greaterEqual:
            if case .absent = lhs { return .bool(false) }
            if case .absent = rhs { return .bool(false) }
            if let x = numeric(lhs), let y = numeric(rhs) {
                return .bool(operation.compare(x, y) ?? false)
            } else if case .string(let x) = lhs, case .string(let y) = rhs {
                return .bool(operation.compare(x, y) ?? false)
            } else {
                throw EvaluationError(message: "cannot order these values")
            }
        case .add, .subtract, .multiply, .remainder, .shiftLeft:
            if case .absent = lhs { return .absent }
            if case .absent = rhs { return .absent }
            guard let x = numeric(lhs), let y = numeric(rhs) else { throw EvaluationError(message: "arithmetic needs numbers") }
            return try integerBinary(operation, x, y)
        }
    }

    /// `binary(_:_:_:)` of two integers.
    @inline(__always)
    static func integerBinary(_ operation: BinaryOperation, _ x: Int128, _ y: Int128) throws(EvaluationError) -> Value {
        if let answer = operation.compare(x, y) { return .bool(answer) }
        return try integerArithmetic(operation, x, y)
    }

    /// The arithmetic half of `integerBinary`, out of line: the comparisons are the common case and
    /// inline into the interpreter's loop only without this.
    @inline(never)
    static func integerArithmetic(_ operation: BinaryOperation, _ x: Int128, _ y: Int128) throws(EvaluationError) -> Value {
        switch operation {
        // Not called for comparisons; answered all the same, to stay total.
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return try integerBinary(operation, x, y)
        case .add, .subtract, .multiply, .remainder, .shiftLeft:
            let result: (Int128, Bool)
            switch operation {
            case .add: result = x.addingReportingOverflow(y)
            case .subtract: result = x.subtractingReportingOverflow(y)
            case .multiply: result = x.multipliedReportingOverflow(by: y)
            case .remainder:
                guard y != 0 else { throw EvaluationError(message: "remainder by zero") }
                result = x.remainderReportingOverflow(dividingBy: y)
            default:
                guard y >= 0, y < 127 else { throw EvaluationError(message: "shift by \(y)") }
                let shifted = x << y
                result = (shifted, shifted >> y != x)
            }
            guard !result.1 else { throw EvaluationError(message: "arithmetic overflow") }
            return .int(result.0)
        }
    }

    /// The truth of a result: booleans, and `absent` as false.
    static func truth(_ value: Value) -> Bool? {
        switch value {
        case .bool(let value): value
        case .absent: false
        default: nil
        }
    }
}
