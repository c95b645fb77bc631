/// The deterministic automaton of a `SimplePattern`, built state by state as values need them.
///
/// The pattern's syntax tree becomes a position automaton (Glushkov's construction: one position
/// per byte or class of the pattern, with counted repetitions written out, and which positions may
/// follow which). A state of the deterministic automaton is a set of positions; its successor on a
/// byte is computed the first time a value takes that step and kept in a table, so matching a value
/// costs one table load per byte (about 8 instructions, against 1,700 for following the pattern's
/// tree per value). Only printable ASCII is ever asked for (`SimplePattern.matches`), so a state
/// has 128 entries.
///
/// Patterns whose position automaton would be large (`(a{1000}){1000}`), or values that reach too
/// many states, are left to `Regex`: `matches` answers `nil`.
final class PatternAutomaton {
    /// Positions at most (counted repetitions multiply them).
    static let maximumPositions = 4096
    /// States at most (each takes a row of 128 entries).
    static let maximumStates = 1024

    // Only the replaying thread matches values, one at a time: no exclusivity checks needed.

    /// The pattern, until the first match builds the positions from it.
    @exclusivity(unchecked) private var root: SimplePattern.Node?
    /// Per position: the bytes it matches.
    @exclusivity(unchecked) private var classes: [SimplePattern.ByteSet] = []
    /// Per position, and for the start (the last entry): the positions that may come next.
    @exclusivity(unchecked) private var follow: [[Int]] = []
    /// Per position, and for the start: whether a value may end there.
    @exclusivity(unchecked) private var final: [Bool] = []
    /// Whether the positions were built (false: too many; every match answers `nil`).
    @exclusivity(unchecked) private var built = false

    /// Per state: its positions; state 0 is the dead state (no position), state 1 the start.
    @exclusivity(unchecked) private var states: [[Int]] = []
    @exclusivity(unchecked) private var stateOfPositions: [[Int]: Int32] = [:]
    @exclusivity(unchecked) private var accepting: [Bool] = []
    /// `state * 128 + byte` to the next state; -1 when not computed yet. A pointer, not an array:
    /// the loop of `matches` then reads it without bounds or uniqueness checks.
    @exclusivity(unchecked) private var table = UnsafeMutablePointer<Int32>.allocate(capacity: 4 * 128)
    /// States the table has room for.
    @exclusivity(unchecked) private var capacity = 4

    init(_ root: SimplePattern.Node) {
        self.root = root
    }

    deinit {
        table.deallocate()
    }

    /// Whether the whole of `bytes` (printable ASCII) matches; `nil`: too large, ask `Regex`.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        if let root {
            self.root = nil
            build(root)
        }
        guard built else { return nil }
        var table = self.table
        var state: Int32 = 1
        for byte in bytes {
            let byte = byte & 0x7F
            var next = table[Int(state) &* 128 &+ Int(byte)]
            if next < 0 {
                guard let added = successor(of: state, on: byte) else { return nil }
                next = added
                // Adding a state may have moved the table.
                table = self.table
            }
            if next == 0 { return false }
            state = next
        }
        return accepting[Int(state)]
    }

    // MARK: - Positions

    /// What a piece of the pattern contributes: whether it matches the empty value, the positions
    /// it can begin and end with.
    private struct Fragment {
        var empty: Bool
        var first: [Int]
        var last: [Int]
    }

    private func build(_ root: SimplePattern.Node) {
        guard let fragment = fragment(root) else { return }
        let start = classes.count
        follow.append(fragment.first)
        final = [Bool](repeating: false, count: start + 1)
        for position in fragment.last { final[position] = true }
        final[start] = fragment.empty
        built = true
        // The dead state, then the start.
        _ = state(of: [])
        _ = state(of: [start])
    }

    /// Adds the positions of `node`; nil when there would be too many.
    private func fragment(_ node: SimplePattern.Node) -> Fragment? {
        switch node {
        case .byte(let byte):
            return leaf(SimplePattern.ByteSet(byte: byte))
        case .set(let members):
            return leaf(members)
        case .sequence(let nodes):
            var result = Fragment(empty: true, first: [], last: [])
            for node in nodes {
                guard let next = fragment(node) else { return nil }
                result = concatenate(result, next)
            }
            return result
        case .alternatives(let options):
            var result = Fragment(empty: false, first: [], last: [])
            for option in options {
                guard let next = fragment(option) else { return nil }
                result.empty = result.empty || next.empty
                result.first += next.first
                result.last += next.last
            }
            return result
        case .repeated(let inner, let minimum, let maximum):
            // `x{2,4}` is `x x x? x?` and `x{2,}` is `x x+`: each copy gets positions of its own.
            var result = Fragment(empty: true, first: [], last: [])
            for _ in 0..<max(minimum - 1, 0) {
                guard let copy = fragment(inner) else { return nil }
                result = concatenate(result, copy)
            }
            if let maximum {
                for copyIndex in max(minimum - 1, 0)..<maximum {
                    guard var copy = fragment(inner) else { return nil }
                    if copyIndex >= minimum { copy.empty = true }
                    result = concatenate(result, copy)
                }
            } else {
                guard var copy = fragment(inner) else { return nil }
                // One or more: the copy may follow itself.
                for position in copy.last { follow[position] += copy.first }
                if minimum == 0 { copy.empty = true }
                result = concatenate(result, copy)
            }
            return result
        }
    }

    private func leaf(_ members: SimplePattern.ByteSet) -> Fragment? {
        guard classes.count < Self.maximumPositions else { return nil }
        classes.append(members)
        follow.append([])
        return Fragment(empty: false, first: [classes.count - 1], last: [classes.count - 1])
    }

    private func concatenate(_ a: Fragment, _ b: Fragment) -> Fragment {
        for position in a.last { follow[position] += b.first }
        return Fragment(empty: a.empty && b.empty, first: a.empty ? a.first + b.first : a.first, last: b.empty ? a.last + b.last : b.last)
    }

    // MARK: - States

    /// The state of a sorted set of positions, added if new; nil when there are too many states.
    private func state(of positions: [Int]) -> Int32? {
        if let known = stateOfPositions[positions] { return known }
        guard states.count < Self.maximumStates else { return nil }
        let state = Int32(states.count)
        states.append(positions)
        stateOfPositions[positions] = state
        accepting.append(positions.contains { final[$0] })
        if states.count > capacity {
            let larger = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * capacity * 128)
            larger.moveInitialize(from: table, count: capacity * 128)
            table.deallocate()
            table = larger
            capacity *= 2
        }
        (table + Int(state) * 128).initialize(repeating: -1, count: 128)
        return state
    }

    /// The state after `state` on `byte`, computed and kept; nil when there are too many states.
    private func successor(of state: Int32, on byte: UInt8) -> Int32? {
        var next = Set<Int>()
        for position in states[Int(state)] {
            for candidate in follow[position] where classes[candidate].contains(byte) { next.insert(candidate) }
        }
        guard let successor = self.state(of: next.sorted()) else { return nil }
        table[Int(state) * 128 + Int(byte)] = successor
        return successor
    }
}
