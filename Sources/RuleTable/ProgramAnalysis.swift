import ProtocolModel

/// Static checks of guard bytecode: jump targets inside the program, and stack heights simulated
/// along every path (the same height wherever paths join, no underflow, exactly one value left at
/// the end). Linear in the program's length.
enum ProgramAnalysis {
    /// Why a program is refused.
    struct Problem: Error, Equatable {
        var code: String
        var message: String
    }

    /// Values an instruction pops and pushes, and where it may jump.
    static func effect(of instruction: Instruction) -> (pops: Int, pushes: Int, jump: Int?, fallsThrough: Bool) {
        switch instruction {
        case .boolean, .integer, .string, .parameter, .value, .present, .state, .seen, .load:
            (0, 1, nil, true)
        case .number(_, let hasDefault):
            (hasDefault ? 1 : 0, 1, nil, true)
        case .makeSet(let count):
            (count, 1, nil, true)
        case .member, .binary:
            (2, 1, nil, true)
        case .inRange:
            (3, 1, nil, true)
        case .not, .powerOfTwo:
            (1, 1, nil, true)
        case .store, .pop:
            (1, 0, nil, true)
        case .jump(let target):
            (0, 0, target, false)
        case .jumpIfFalse(let target):
            (1, 0, target, true)
        }
    }

    /// The deepest the stack gets, or why the program is invalid.
    static func maximumStackDepth(_ program: Program) -> Result<Int, Problem> {
        let instructions = program.instructions
        let count = instructions.count
        for (index, instruction) in instructions.enumerated() {
            if let target = effect(of: instruction).jump, target < 0 || target > count {
                return .failure(
                    Problem(code: "E0884", message: "instruction \(index) jumps to \(target), outside the program's \(count) instructions"))
            }
        }
        // heights[i]: the stack height before instruction i (index `count`: at the end); -1 unvisited.
        var heights = [Int](repeating: -1, count: count + 1)
        heights[0] = 0
        var pending = [0]
        var deepest = 0
        while let index = pending.popLast() {
            guard index < count else { continue }
            let height = heights[index]
            let (pops, pushes, jump, fallsThrough) = effect(of: instructions[index])
            guard height >= pops else {
                return .failure(
                    Problem(
                        code: "E0885",
                        message: "instruction \(index) pops \(pops) value(s) but the stack can hold only \(height) there"))
            }
            let after = height - pops + pushes
            deepest = max(deepest, after)
            var successors: [Int] = []
            if fallsThrough { successors.append(index + 1) }
            if let jump { successors.append(jump) }
            for successor in successors {
                if heights[successor] == -1 {
                    heights[successor] = after
                    pending.append(successor)
                } else if heights[successor] != after {
                    let place = successor == count ? "the end" : "instruction \(successor)"
                    return .failure(
                        Problem(
                            code: "E0885",
                            message: "paths reach \(place) with different stack heights (\(heights[successor]) and \(after))"))
                }
            }
        }
        guard heights[count] != -1 else {
            return .failure(Problem(code: "E0885", message: "the program never reaches its end"))
        }
        guard heights[count] == 1 else {
            return .failure(Problem(code: "E0885", message: "the program leaves \(heights[count]) values; it must leave exactly one"))
        }
        return .success(deepest)
    }
}
