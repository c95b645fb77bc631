import ProtocolSyntax

/// Whether a conjunction of turn conditions can hold on any store, reasoning about the values of
/// keys as far as the replay's semantics settle them: a key has at most one value, so `k == "a"`
/// and `k == "b"` cannot both hold, and a key compared equal to a string is present. Everything
/// else (`seen`, numbers, `forall`, predicates with parameters) is an opaque proposition. The
/// turn table drops the rows this shows impossible: the replay could never pick them, and a
/// reviewer reading the table should not have to see that for themselves.
///
/// It answers "satisfiable" whenever it cannot tell within its bounds, so a row is dropped only
/// when it provably never holds.
struct ConditionSatisfiability {
    /// A proposition about the store.
    private enum Atom: Hashable {
        /// `key == "value"` (Swift string equality, as the replay compares strings).
        case equals(key: String, value: String)
        /// `present(key)`.
        case present(key: String)
        /// Anything else, by its printed text.
        case opaque(String)
    }

    private indirect enum Formula {
        case atom(Int)
        case constant(Bool)
        case not(Formula)
        case and(Formula, Formula)
        case or(Formula, Formula)
    }

    /// Atoms one question may have: their assignments are enumerated.
    static let maximumAtoms = 12
    /// Formula nodes one question may have.
    static let maximumNodes = 512
    /// Predicate bodies inlined one inside another at most.
    static let maximumInlining = 16
    /// Formula nodes evaluated for one protocol's whole turn table at most (a fraction of a second
    /// in a debug build); the shipped descriptions need a few thousand.
    static let turnTableSteps = 2_000_000

    /// Zero-parameter predicates by name, inlined where they are used.
    let predicates: [String: PredicateDeclaration]
    /// Formula evaluations left to all questions together; once spent, every question is answered
    /// "satisfiable".
    let budget: ProtocolAnalysis.Budget

    private struct Builder {
        var atoms: [Atom] = []
        var index: [Atom: Int] = [:]
        var nodes = 0
        var overflow = false

        mutating func atom(_ atom: Atom) -> Formula {
            if let known = index[atom] { return .atom(known) }
            index[atom] = atoms.count
            atoms.append(atom)
            return .atom(atoms.count - 1)
        }
    }

    /// Whether some store makes every one of `conjuncts` true (also when unsure).
    func satisfiable(_ conjuncts: [Expression]) -> Bool {
        guard !conjuncts.isEmpty, !budget.isExhausted else { return true }
        var builder = Builder()
        var formula = Formula.constant(true)
        for conjunct in conjuncts { formula = .and(formula, build(conjunct, &builder, depth: 0)) }
        guard !builder.overflow, builder.atoms.count <= Self.maximumAtoms, interacts(builder.atoms) else { return true }
        let atoms = builder.atoms
        for assignment in 0..<(1 << atoms.count) {
            guard consistent(assignment, atoms) else { continue }
            budget.remaining -= builder.nodes
            if budget.isExhausted { return true }
            if Self.evaluate(formula, assignment) { return true }
        }
        return false
    }

    /// Whether the value rules can make any assignment inconsistent: two equalities of one key, or
    /// an equality and a presence of one key. Without that, only propositional contradictions are
    /// left, which the turn table already sees between conjuncts.
    private func interacts(_ atoms: [Atom]) -> Bool {
        var equalityKeys: Set<String> = []
        var presenceKeys: Set<String> = []
        for atom in atoms {
            switch atom {
            case .equals(let key, _):
                if !equalityKeys.insert(key).inserted { return true }
            case .present(let key): presenceKeys.insert(key)
            case .opaque: break
            }
        }
        return !equalityKeys.isDisjoint(with: presenceKeys)
    }

    /// Whether `assignment` (bit `i`: atom `i` holds) respects the value rules.
    private func consistent(_ assignment: Int, _ atoms: [Atom]) -> Bool {
        var valueOf: [String: String] = [:]
        for (position, atom) in atoms.enumerated() where assignment & (1 << position) != 0 {
            guard case .equals(let key, let value) = atom else { continue }
            if let other = valueOf[key], other != value { return false }
            valueOf[key] = value
        }
        for (position, atom) in atoms.enumerated() where assignment & (1 << position) == 0 {
            if case .present(let key) = atom, valueOf[key] != nil { return false }
        }
        return true
    }

    private static func evaluate(_ formula: Formula, _ assignment: Int) -> Bool {
        switch formula {
        case .atom(let index): assignment & (1 << index) != 0
        case .constant(let value): value
        case .not(let operand): !evaluate(operand, assignment)
        case .and(let a, let b): evaluate(a, assignment) && evaluate(b, assignment)
        case .or(let a, let b): evaluate(a, assignment) || evaluate(b, assignment)
        }
    }

    private func build(_ expression: Expression, _ builder: inout Builder, depth: Int) -> Formula {
        builder.nodes += 1
        guard builder.nodes <= Self.maximumNodes, depth < ProtocolAnalysis.maximumSimplifiedDepth else {
            builder.overflow = true
            return .constant(true)
        }
        switch expression {
        case .binary(.and, let a, let b):
            return .and(build(a, &builder, depth: depth + 1), build(b, &builder, depth: depth + 1))
        case .binary(.or, let a, let b):
            return .or(build(a, &builder, depth: depth + 1), build(b, &builder, depth: depth + 1))
        case .binary(.implies, let a, let b):
            return .or(.not(build(a, &builder, depth: depth + 1)), build(b, &builder, depth: depth + 1))
        case .not(let operand, _):
            return .not(build(operand, &builder, depth: depth + 1))
        case .binary(let operation, let lhs, let rhs) where operation == .equal || operation == .notEqual:
            guard let (key, value) = Self.keyAndString(lhs, rhs) ?? Self.keyAndString(rhs, lhs) else { break }
            let equality = builder.atom(.equals(key: key, value: value))
            return operation == .equal ? equality : .not(equality)
        case .call(let name, let arguments) where (name.name == "present" || name.name == "absent") && arguments.count == 1:
            guard case .key(let reference) = arguments[0], reference.segments != nil else { break }
            let presence = builder.atom(.present(key: reference.description))
            return name.name == "present" ? presence : .not(presence)
        case .name(let name):
            guard let predicate = predicates[name.name], predicate.parameters.isEmpty, depth < Self.maximumInlining else { break }
            return build(predicate.body, &builder, depth: depth + 1)
        case .call(let name, let arguments) where arguments.isEmpty:
            guard let predicate = predicates[name.name], predicate.parameters.isEmpty, depth < Self.maximumInlining else { break }
            return build(predicate.body, &builder, depth: depth + 1)
        default:
            break
        }
        return builder.atom(.opaque(ExpressionPrinter.print(expression)))
    }

    /// `(key, value)` when `a` is a key without index variables and `b` a string literal.
    private static func keyAndString(_ a: Expression, _ b: Expression) -> (String, String)? {
        guard case .key(let reference) = a, let segments = reference.segments, !segments.contains(where: { $0.contains("{") }),
            case .string(let value, _) = b
        else { return nil }
        return (reference.description, value)
    }
}
