/// A compiled expression: a small stack machine, so the checker needs no expression tree or
/// protocol knowledge, only these instructions.
public struct Program: Equatable, Sendable {
    public var instructions: [Instruction]
    /// Local slots the program uses (bound variables of `forall` and key indices).
    public var localCount: Int

    public init(instructions: [Instruction], localCount: Int) {
        self.instructions = instructions
        self.localCount = localCount
    }
}

/// Comparison and arithmetic operators of the bytecode.
public enum BinaryOperation: UInt8, Equatable, Sendable, CaseIterable {
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case add, subtract, multiply, remainder, shiftLeft

    /// The comparison's answer for two values of one kind; `nil` for the arithmetic operations (the
    /// replay's evaluator compares integers and strings through it).
    @inlinable @inline(__always)
    public func compare<Value: Comparable>(_ x: Value, _ y: Value) -> Bool? {
        switch self {
        case .equal: x == y
        case .notEqual: x != y
        case .less: x < y
        case .lessEqual: x <= y
        case .greater: x > y
        case .greaterEqual: x >= y
        case .add, .subtract, .multiply, .remainder, .shiftLeft: nil
        }
    }
}

/// One bytecode instruction. Operands are popped right to left; booleans are values too.
public enum Instruction: Equatable, Sendable {
    /// Pushes a boolean.
    case boolean(Bool)
    /// Pushes an integer.
    case integer(Int128)
    /// Pushes a string.
    case string(String)
    /// Pushes an instance parameter's value (a number).
    case parameter(Int)
    /// Pushes the key's value as a string, or `absent`.
    case value(KeyPattern)
    /// Pushes whether the key exists.
    case present(KeyPattern)
    /// `val(k)` / `val(k, d)`: the key's decimal value; with a default, pops it and uses it when absent.
    case number(KeyPattern, hasDefault: Bool)
    /// Pushes the state of a directory's machine (0, `Unknown`, when absent).
    case state(directory: Int)
    /// `seen(d.state, S)`: whether the directory's state has been S since creation or the last `Closed`.
    case seen(directory: Int, state: Int)
    /// Pops `count` values and pushes a set of them.
    case makeSet(count: Int)
    /// Pops a set, then a value; pushes membership.
    case member
    /// Pops upper, lower, value; pushes `lower <= value < upper`.
    case inRange
    /// Pops rhs then lhs; pushes the result.
    case binary(BinaryOperation)
    /// Pops a boolean; pushes its negation.
    case not
    /// Pops n; pushes whether n is a power of two.
    case powerOfTwo
    /// Pops a value into a local slot.
    case store(slot: Int)
    /// Pushes a local slot.
    case load(slot: Int)
    /// Jumps to an instruction index.
    case jump(Int)
    /// Pops a boolean and jumps if it is false.
    case jumpIfFalse(Int)
    /// Discards the top value.
    case pop
}
