import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// The static analysis of key machines (`machine be/state-{n}`): each is explored on its own, as the
/// life of one entry of its key family. Key machines are not part of the global state, so they are
/// not in the product of the directory machines and take no part in deadlocks, liveness coverage or
/// the turn table (`docs/protocol-language.md`, "Static checks").
extension ProtocolAnalysis {
    /// The states an entry of a key machine may be created in: the key's `init` value, which the
    /// toolstack creates the entries of the instance with (and, by the same convention, later ones:
    /// an entry renumbered after a removal keeps a value it already had, so it adds no state). A key
    /// without an `init` value may be created in any state; nil then (everything counts as reached).
    func initialStates(of machine: Machine) -> Set<Int>? {
        guard let value = definition.keys[machine.key].initialValue.flatMap({ Int($0) }) else { return nil }
        return [value]
    }

    /// Explores each key machine from its initial states. A transition counts as enabled whenever
    /// its guard may hold in some reachable global state of the directory machines (the entry's own
    /// keys and indices are unknown), which over-approximates what drivers can do. Reports the
    /// states transitions start from that no entry reaches (`W0741`), and, for a machine with a
    /// transition into `Closed`, the reachable states from which `Closed` cannot be reached (`W0748`).
    mutating func exploreKeyMachines() {
        let directories = definition.machines.map(\.directory)
        // Without directory machines there is one global state, in which no directory state is known.
        let environments: [[Int: Int]] =
            reachableStates.isEmpty
            ? [[:]] : reachableStates.map { Dictionary(zip(directories, $0), uniquingKeysWith: { first, _ in first }) }
        let allStates = Set(definition.states.map(\.value))
        let closed = definition.states.first { $0.name == "Closed" }?.value
        keyMachineReachableStates = []
        let budget = Budget(Self.explorationSteps)
        defer {
            if budget.isExhausted {
                reportExplorationBound(
                    "evaluating the guards of the key machines took more than \(Self.explorationSteps) steps",
                    "those evaluated after that counted as possibly true, so unreached states and states that cannot close may be missed")
            }
        }
        for (m, machine) in definition.keyMachines.enumerated() {
            guard let initial = initialStates(of: machine) else {
                keyMachineReachableStates.append(allStates)
                continue
            }
            let enabled = machine.transitions.indices.map { t in
                environments.contains { mayHold(syntax.keyMachineGuards[m][t], $0, budget: budget) }
            }
            func successors(_ state: Int) -> [Int] {
                machine.transitions.indices.compactMap { t in
                    let transition = machine.transitions[t]
                    return enabled[t] && transition.from.contains(state) && transition.to != state ? transition.to : nil
                }
            }
            var reached = initial
            var queue = Array(initial)
            while let state = queue.popLast() {
                for next in successors(state) where reached.insert(next).inserted { queue.append(next) }
            }
            keyMachineReachableStates.append(reached)
            let name = keyName(machine)

            reportUnreachedSources(machine, reached: reached, name: name, locations: syntax.keyMachineTransitionLocations[m])

            // A machine that never closes an entry (entries are only removed) has nothing to trap.
            guard let closed, machine.transitions.contains(where: { $0.to == closed }) else { continue }
            var canClose: Set<Int> = [closed]
            var changed = true
            while changed {
                changed = false
                for state in reached where !canClose.contains(state) && successors(state).contains(where: canClose.contains) {
                    canClose.insert(state)
                    changed = true
                }
            }
            let traps = definition.states.filter { reached.contains($0.value) && !canClose.contains($0.value) }.map { "'\($0.name)'" }
            guard !traps.isEmpty else { continue }
            diagnostics.append(
                .warning(
                    "W0748",
                    "\(traps.count == 1 ? "state" : "states") \(traps.joined(separator: ", ")) of '\(name)' \(traps.count == 1 ? "is" : "are") reached but can never become Closed",
                    at: sourceLocation(machine.origin),
                    hint: "an entry there can only be removed, never closed by the machine; add the transitions that lead to Closed"))
        }
    }

    /// `be/state-{n}`.
    private func keyName(_ machine: Machine) -> String {
        "\(definition.directories[machine.directory].name)/\(definition.keys[machine.key].pattern)"
    }
}
