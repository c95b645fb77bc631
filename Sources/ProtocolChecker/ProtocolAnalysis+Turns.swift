import ProtocolModel
import ProtocolSyntax

/// The turn table (docs/protocol-language.md, "turn table"): per reachable global state, rows with
/// conditions over keys, so that `blame turn` can tell apart the roles the machine states alone
/// cannot (vbd's `(Initialised, InitWait)`: the hotplug script's turn while `be/physical-device` is
/// absent, the backend's once it is present).
extension ProtocolAnalysis {
    /// Rows of one global state that would need more than this many conditional roles in one tier
    /// (2^n - 1 rows) are not split: that tier gets one row for all of them.
    static let maximumConditionalRoles = 4
    /// Distinct conditions or-ed into one role's condition at most (the shipped descriptions' largest has a handful).
    static let maximumReasonsPerRole = 16
    /// A global state that would need more rows than this gets one unconditional row instead.
    static let maximumTurnRows = 16

    /// Why a role may have the turn, in the order the tiers are tried.
    private enum TurnTier: Int, CaseIterable {
        /// An expectation that blames the role may be armed.
        case expected
        /// The role can move forward (not into Closing or Closed, not out of Closed).
        case forward
        /// A forward move waits for its guard: the roles that may write the keys the guard reads.
        case blocked
        /// The role can continue a teardown.
        case closing
        /// The role can restart from Closed.
        case reconnect
        /// The toolstack, when nobody else can act.
        case privileged
    }

    /// A conjunct of a row's condition: an expression the states leave open, or its negation.
    /// Identified by its printed text, so that equal conditions written twice are one.
    private struct TurnAtom: Hashable {
        var text: String
        var negated: Bool
        var negation: TurnAtom { TurnAtom(text: text, negated: !negated) }
    }

    /// One reason for a role to have the turn; `condition` nil: whatever the keys are.
    private struct Contribution {
        var tier: TurnTier
        var role: Int
        var condition: Expression?
    }

    /// What is left of an expression once the machine states are known.
    private enum Residual {
        case decided(Bool)
        case open(Expression)
    }

    /// `expression` in `context` with the parts the states decide taken out: `fe.state == Initialised
    /// && present(be/physical-device)` is `present(be/physical-device)` in (Initialised, _).
    /// Predicates stay calls (their names read better than their bodies).
    private func residual(_ expression: Expression, _ context: Context) -> Residual {
        switch expression {
        case .binary(let operation, let lhs, let rhs) where operation == .and || operation == .or || operation == .implies:
            let left = residual(lhs, context)
            let right = residual(rhs, context)
            switch (operation, left, right) {
            case (.and, .decided(false), _), (.and, _, .decided(false)): return .decided(false)
            case (.and, .decided(true), let other), (.and, let other, .decided(true)): return other
            case (.or, .decided(true), _), (.or, _, .decided(true)): return .decided(true)
            case (.or, .decided(false), let other), (.or, let other, .decided(false)): return other
            case (.implies, .decided(false), _), (.implies, _, .decided(true)): return .decided(true)
            case (.implies, .decided(true), let other): return other
            case (.implies, .open(let a), .decided(false)): return .open(.not(a, a.location))
            case (_, .open(let a), .open(let b)): return .open(.binary(operation, a, b))
            default: return .open(expression)
            }
        case .not(let operand, let location):
            switch residual(operand, context) {
            case .decided(let value): return .decided(!value)
            case .open(let inner): return .open(.not(inner, location))
            }
        case .conditional(let condition, let then, let otherwise, _):
            switch residual(condition, context) {
            case .decided(true): return residual(then, context)
            case .decided(false): return residual(otherwise, context)
            case .open:
                if case .bool(let value) = evaluate(expression, context) { return .decided(value) }
                return .open(expression)
            }
        default:
            if case .bool(let value) = evaluate(expression, context) { return .decided(value) }
            return .open(expression)
        }
    }

    /// The rows of global state `global` (two machines), in order. Each tier contributes the roles
    /// whose reasons hold whatever the keys are, and for the others, one row per combination of
    /// them (largest first), so the first row whose condition holds names exactly the roles whose
    /// reasons hold; a tier with unconditional roles ends the rows with a row without condition.
    func turnRows(_ global: [Int], teardown: Set<Int>, closed: Int?, satisfiability: ConditionSatisfiability) -> [Turn] {
        func row(_ condition: Turn.Condition?, _ roles: RoleMask) -> Turn {
            Turn(frontendState: global[0], backendState: global[1], condition: condition, roles: roles)
        }
        let contributions = turnContributions(global, teardown: teardown, closed: closed)
        var split = splitRows(contributions, satisfiability)
        // A conditional row just before the fallback that names the same roles changes nothing.
        while split.count >= 2, split[split.count - 1].0.isEmpty, split[split.count - 2].1 == split[split.count - 1].1 {
            split.remove(at: split.count - 2)
        }
        if split.count <= Self.maximumTurnRows {
            var rows: [Turn] = []
            for (conjuncts, roles) in split {
                if conjuncts.isEmpty {
                    rows.append(row(nil, roles))
                } else if let condition = compileCondition(conjuncts.map(\.0)) {
                    rows.append(row(condition, roles))
                } else {
                    break
                }
            }
            // Nobody may act at all: one row with no roles (`blame turn` then blames the toolstack).
            if rows.isEmpty && split.isEmpty { return [row(nil, .empty)] }
            if rows.count == split.count { return rows }
        }
        // Too many rows, or a condition too large to compile: the first tier with any role, as if
        // every condition held (the roles that may have the turn).
        let first = TurnTier.allCases.lazy.map { tier in RoleMask(contributions.filter { $0.tier == tier }.map(\.role)) }
            .first { !$0.isEmpty }
        return [row(nil, first ?? .empty)]
    }

    /// Why each role may have the turn in `global`, with what the states leave open of the reason.
    private func turnContributions(_ global: [Int], teardown: Set<Int>, closed: Int?) -> [Contribution] {
        let machines = definition.machines
        let states = Dictionary(zip(machines.map(\.directory), global), uniquingKeysWith: { first, _ in first })
        let context = Context(states: states, statesTracked: true)
        var contributions: [Contribution] = []
        for (index, expectation) in definition.expectations.enumerated() {
            guard case .role(let role) = expectation.blame else { continue }
            let armed = Expression.binary(
                .and, syntax.expectationTriggers[index],
                .not(syntax.expectationConditions[index], syntax.expectationConditions[index].location))
            switch residual(armed, context) {
            case .decided(false): continue
            case .decided(true): contributions.append(Contribution(tier: .expected, role: role, condition: nil))
            case .open(let condition): contributions.append(Contribution(tier: .expected, role: role, condition: condition))
            }
        }
        for (m, machine) in machines.enumerated() {
            for (t, transition) in machine.transitions.enumerated() where transition.from.contains(global[m]) && transition.to != global[m]
            {
                var condition: Expression? = nil
                if let guardExpression = syntax.guards[m][t] {
                    switch residual(guardExpression, context) {
                    case .decided(false): continue
                    case .decided(true): break
                    case .open(let open): condition = open
                    }
                }
                // A forward move whose guard the keys decide waits, while it fails, on whoever may write them.
                var blocked = RoleMask.empty
                var blockedBy: Expression? = nil
                for role in definition.roles.indices where transition.by.contains(role) {
                    let tier: TurnTier
                    if isPrivileged(role) {
                        tier = .privileged
                    } else if teardown.contains(transition.to) {
                        tier = .closing
                    } else if global[m] == closed {
                        // Leaving Closed is an optional restart; a side that has closed has done its part.
                        tier = .reconnect
                    } else {
                        tier = .forward
                    }
                    contributions.append(Contribution(tier: tier, role: role, condition: condition))
                    guard tier == .forward, let condition else { continue }
                    blocked = enablers(of: condition)
                    blockedBy = condition
                }
                if let blockedBy {
                    for enabler in definition.roles.indices where blocked.contains(enabler) {
                        contributions.append(Contribution(tier: .blocked, role: enabler, condition: .not(blockedBy, blockedBy.location)))
                    }
                }
            }
        }
        return contributions
    }

    /// The roles that may write the keys `condition` reads (not the state keys: a state changing
    /// is another global state), the toolstack only when nobody else may.
    private func enablers(of condition: Expression) -> RoleMask {
        var compiler = ExpressionCompiler(names: syntax.names)
        _ = compiler.compile(condition)
        var writers = RoleMask.empty
        for (pattern, _) in compiler.referencedKeys {
            let shape = KeySegments.shape(of: pattern)
            for key in definition.keys
            where !key.isState && key.pattern.directory == pattern.directory && KeySegments.shape(of: key.pattern) == shape {
                writers.rawValue |= key.writers.rawValue
            }
        }
        let unprivileged = RoleMask(rawValue: writers.rawValue & ~privilegedRoles.rawValue)
        return unprivileged.isEmpty ? writers : unprivileged
    }

    /// The rows as (conjuncts, roles); no conjuncts: no condition.
    private func splitRows(
        _ contributions: [Contribution], _ satisfiability: ConditionSatisfiability
    ) -> [([(Expression, TurnAtom)], RoleMask)] {
        var rows: [([(Expression, TurnAtom)], RoleMask)] = []
        var earlier: [Set<TurnAtom>] = []
        // Conjuncts of single-conjunct rows already passed: false whenever a later row is tried.
        var knownFalse: Set<TurnAtom> = []
        /// Adds a row unless no store could reach it with its condition holding; true when it has no
        /// condition left (the rows end there).
        func add(_ conjuncts: [(Expression, TurnAtom)], _ roles: RoleMask) -> Bool {
            guard !conjuncts.contains(where: { knownFalse.contains($0.1) }) else { return false }
            var kept: [(Expression, TurnAtom)] = []
            for conjunct in conjuncts where !knownFalse.contains(conjunct.1.negation) && !kept.contains(where: { $0.1 == conjunct.1 }) {
                kept.append(conjunct)
            }
            let atoms = Set(kept.map(\.1))
            guard !atoms.contains(where: { atoms.contains($0.negation) }), !earlier.contains(where: { $0.isSubset(of: atoms) }),
                satisfiability.satisfiable(kept.map(\.0))
            else {
                return false
            }
            rows.append((kept, roles))
            earlier.append(atoms)
            if kept.count == 1 { knownFalse.insert(kept[0].1) }
            return kept.isEmpty
        }
        for tier in TurnTier.allCases {
            let reasons = contributions.filter { $0.tier == tier }
            guard !reasons.isEmpty else { continue }
            var unconditional = RoleMask(reasons.filter { $0.condition == nil }.map(\.role))
            // Per role not already unconditional: its reasons' conditions, or-ed.
            var conditional: [(role: Int, conjunct: (Expression, TurnAtom))] = []
            for role in definition.roles.indices where !unconditional.contains(role) {
                var texts: Set<String> = []
                var disjunction: Expression? = nil
                for case let condition? in reasons.filter({ $0.role == role }).map(\.condition) {
                    guard texts.insert(ExpressionPrinter.print(condition)).inserted else { continue }
                    disjunction = disjunction.map { .binary(.or, $0, condition) } ?? condition
                }
                // A role with more reasons than a row can say keeps the turn without condition: it
                // may have it (the unsplit table's answer), and its condition would be as large as
                // the description (thousands of guards of one transition each).
                if texts.count > Self.maximumReasonsPerRole {
                    unconditional = RoleMask(rawValue: unconditional.rawValue | RoleMask([role]).rawValue)
                } else if let disjunction {
                    conditional.append((role, Self.conjunct(disjunction)))
                }
            }
            var candidates: [([(Expression, TurnAtom)], RoleMask)] = []
            if conditional.count > Self.maximumConditionalRoles {
                let any = conditional.dropFirst().reduce(conditional[0].conjunct.0) { .binary(.or, $0, $1.conjunct.0) }
                candidates.append(
                    ([Self.conjunct(any)], RoleMask(rawValue: unconditional.rawValue | RoleMask(conditional.map(\.role)).rawValue)))
            } else {
                for subset in Self.subsetsLargestFirst(conditional.count) {
                    let roles = RoleMask(rawValue: unconditional.rawValue | RoleMask(subset.map { conditional[$0].role }).rawValue)
                    candidates.append((subset.map { conditional[$0].conjunct }, roles))
                }
            }
            if !unconditional.isEmpty { candidates.append(([], unconditional)) }
            for (conjuncts, roles) in candidates where add(conjuncts, roles) { return rows }
        }
        return rows
    }

    /// A conjunct for `expression`, simplified: `!x` is the negation of `x`, and `a != b` that of
    /// `a == b`, so that a row for one and a later one for the other are seen to exclude each other.
    private static func conjunct(_ expression: Expression) -> (Expression, TurnAtom) {
        let expression = simplified(expression)
        switch expression {
        case .not(let operand, _):
            return (expression, TurnAtom(text: ExpressionPrinter.print(operand), negated: true))
        case .binary(.notEqual, let a, let b):
            return (expression, TurnAtom(text: ExpressionPrinter.print(.binary(.equal, a, b)), negated: true))
        default:
            return (expression, TurnAtom(text: ExpressionPrinter.print(expression), negated: false))
        }
    }

    /// `expression` with double negations and negated comparisons undone, and a conjunction's
    /// repeated terms dropped: conditions are assembled from several guards and expectations, and
    /// `x == "" && !(x != "")` is what a reviewer would otherwise read in the table.
    /// Nested no deeper than the bounds of the language's nesting, so that a hostile condition
    /// cannot exhaust the stack here.
    static func simplified(_ expression: Expression, depth: Int = 0) -> Expression {
        guard depth < Self.maximumSimplifiedDepth else { return expression }
        switch expression {
        case .not(.not(let operand, _), _): return simplified(operand, depth: depth + 1)
        case .not(.binary(.notEqual, let a, let b), _): return .binary(.equal, a, b)
        case .not(.binary(.equal, let a, let b), _): return .binary(.notEqual, a, b)
        case .binary(.or, let a, let b): return .binary(.or, simplified(a, depth: depth + 1), simplified(b, depth: depth + 1))
        case .binary(.and, _, _):
            // The chain's terms, left to right, without recursing down a long chain.
            var terms: [Expression] = []
            var texts: Set<String> = []
            var pending = [expression]
            while let term = pending.popLast() {
                if case .binary(.and, let a, let b) = term {
                    pending.append(b)
                    pending.append(a)
                } else {
                    let term = simplified(term, depth: depth + 1)
                    if texts.insert(ExpressionPrinter.print(term)).inserted { terms.append(term) }
                }
            }
            return terms.dropFirst().reduce(terms[0]) { .binary(.and, $0, $1) }
        default: return expression
        }
    }

    static let maximumSimplifiedDepth = 64

    /// The non-empty subsets of `0..<count`, largest first, each size in lexicographic order.
    private static func subsetsLargestFirst(_ count: Int) -> [[Int]] {
        guard count > 0 else { return [] }
        var subsets: [[Int]] = []
        for size in stride(from: count, through: 1, by: -1) {
            var current: [Int] = []
            func extend(from start: Int) {
                if current.count == size {
                    subsets.append(current)
                    return
                }
                guard start < count else { return }
                for next in start..<count where count - next >= size - current.count {
                    current.append(next)
                    extend(from: next + 1)
                    current.removeLast()
                }
            }
            extend(from: 0)
        }
        return subsets
    }

    /// The conjunction compiled like a transition guard, with its text; nil if it does not compile
    /// (too large after inlining its predicates).
    private func compileCondition(_ conjuncts: [Expression]) -> Turn.Condition? {
        guard let first = conjuncts.first else { return nil }
        let expression = conjuncts.dropFirst().reduce(first) { .binary(.and, $0, $1) }
        var compiler = ExpressionCompiler(names: syntax.names)
        let program = compiler.compile(expression)
        guard compiler.diagnostics.isEmpty else { return nil }
        return Turn.Condition(program: program, text: ExpressionPrinter.print(expression))
    }
}
