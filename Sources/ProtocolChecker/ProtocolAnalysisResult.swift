import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// What the static analysis found about one checked protocol, for the lint rules: the definition,
/// the reachable global states of its machines, and the analysis' three-valued evaluator.
///
/// The reachable states over-approximate what can happen: a transition counts as enabled whenever
/// its guard may hold given only the machines' states (every other key is unknown). So "false in
/// every reachable state" and "true in every reachable state" are safe conclusions.
public struct ProtocolAnalysisResult: Sendable {
    let analysis: ProtocolAnalysis

    init(analysis: ProtocolAnalysis) {
        self.analysis = analysis
    }

    /// The checked definition (with its turn table).
    public var definition: ProtocolDefinition { analysis.definition }

    /// Where the protocol's name is written.
    public var location: SourceLocation { analysis.syntax.protocolLocation }

    /// The reachable global states, one state value per machine of `definition.machines`, starting
    /// with the initial state (empty when the protocol has no machine).
    public var reachableStates: [[Int]] { analysis.reachableStates }

    /// Per key machine of `definition.keyMachines`, the states an entry of its key family can reach:
    /// explored on its own from the key's `init` value, a transition enabled whenever its guard may
    /// hold in some reachable global state; every state when the key has no `init` value (an entry
    /// may then be created in any state).
    public var keyMachineReachableStates: [Set<Int>] { analysis.keyMachineReachableStates }

    /// Whether `expression` (written in this protocol or the units it extends) holds when the
    /// machines are in `global`: true, false, or nil when that depends on keys other than the
    /// machines' states (predicates are expanded, `forall`, `present`, `val` and `seen` are unknown).
    public func truth(of expression: Expression, in global: [Int]) -> Bool? {
        analysis.truth(of: expression, in: global)
    }
}
