import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// Transitions that overlap: the same move (a shared source state, the same target, a shared role)
/// allowed twice, with guards that may hold together. The replay takes the first in declaration order
/// whose guard holds, so when the two require different things, the second one's obligation is never
/// checked where they overlap (`W0749`, `docs/protocol-language.md`, "Static checks").
extension ProtocolAnalysis {
    /// Pairs of transitions compared at most: enough for any real protocol (vbd's machines have 40
    /// transitions, 780 pairs), and a bound for a hostile one.
    static let overlapPairs = 1_000_000

    mutating func checkOverlappingGuards() {
        let directories = definition.machines.map(\.directory)
        // One budget for the whole check, as for the exploration: the pairs are quadratic in the
        // transitions, and each comparison evaluates two guards in every environment.
        let budget = Budget(Self.explorationSteps)
        var pairsLeft = Self.overlapPairs
        func mayHold(_ guardExpression: Expression?, _ states: [Int: Int]) -> Bool {
            guard let guardExpression else { return true }
            return evaluate(guardExpression, Context(states: states, budget: budget)) != .bool(false)
        }
        for (m, machine) in definition.machines.enumerated() {
            // The environments in which this machine is in each state, from the reachable global states.
            var environments: [Int: [[Int: Int]]] = [:]
            for global in reachableStates where m < global.count {
                environments[global[m], default: []].append(
                    Dictionary(zip(directories, global), uniquingKeysWith: { first, _ in first }))
            }
            let transitions = machine.transitions
            for later in transitions.indices {
                for earlier in 0..<later {
                    pairsLeft -= 1
                    guard pairsLeft > 0, !budget.isExhausted else {
                        reportExplorationBound(
                            "the comparison of transitions with overlapping guards stopped at its bound",
                            "later pairs of transitions were not compared (W0749)")
                        return
                    }
                    let (a, b) = (transitions[earlier], transitions[later])
                    guard a.to == b.to, a.by.rawValue & b.by.rawValue != 0, a.from.rawValue & b.from.rawValue != 0,
                        a.obligation != b.obligation
                    else { continue }
                    let shared = definition.states.map(\.value).filter { a.from.contains($0) && b.from.contains($0) }
                    let overlap = shared.first { state in
                        (environments[state] ?? []).contains {
                            mayHold(syntax.guards[m][earlier], $0) && mayHold(syntax.guards[m][later], $0)
                        }
                    }
                    guard let overlap else { continue }
                    let name = "\(definition.directories[machine.directory].name).state"
                    diagnostics.append(
                        .warning(
                            "W0749",
                            "this transition and the one at line \(a.origin.line) both allow \(name) \(definition.stateName(overlap)) -> \(definition.stateName(b.to)) with guards that may hold together, but require different things: the checker takes the first and never checks this one's obligation there",
                            at: sourceLocation(b.origin),
                            hint: "make the guards exclude each other, or give both transitions the same 'requires'"))
                }
            }
        }
    }
}
