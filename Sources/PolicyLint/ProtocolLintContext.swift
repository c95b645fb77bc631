import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax

/// What a protocol rule examines: one checked protocol, the static analysis' results for it, and the
/// syntax it was resolved from (its own unit and the units it extends), indexed by location.
///
/// Everything is built in one pass over the items, so that each rule can be written as a few linear
/// passes over declarations and reachable states with dictionaries.
public struct ProtocolLintContext: Sendable {
    /// The analysis: reachable global states and the three-valued evaluator.
    public let analysis: ProtocolAnalysisResult
    /// The items the protocol was resolved from, the oldest ancestor's first (as the checker flattens them).
    public let items: [Item]
    /// The checked definition.
    public var definition: ProtocolDefinition { analysis.definition }

    /// Role declarations by name (a redeclaration replaces the inherited one).
    public let roleDeclarations: [String: RoleDeclaration]
    /// Predicates by name (the last declaration wins, as in the checker).
    public let predicates: [String: PredicateDeclaration]
    /// Guarantees by the location of their name (the model's `Guarantee.origin`).
    public let guarantees: [SourceLocation: GuaranteeDeclaration]
    /// Expectations by the location of `expect` (the model's `Expectation.origin`).
    public let expectations: [SourceLocation: ProtocolSyntax.Expectation]
    /// Transitions by the location of their first token (the model's `Transition.origin`).
    public let transitions: [SourceLocation: ProtocolSyntax.Transition]
    /// The items of the protocol's own unit, without those of the units it extends.
    public let ownItems: [Item]
    /// Whether another loaded unit extends this protocol (its declarations may serve that unit).
    public let isExtended: Bool

    /// - Parameters:
    ///   - analysis: one protocol's analysis, from `ProtocolChecker.checkDetailed`.
    ///   - units: every unit of the loaded files by name, to follow `extends`.
    public init(analysis: ProtocolAnalysisResult, units: [String: Unit]) {
        self.analysis = analysis
        // The chain: the protocol unit (found by the location of its name), then its ancestors.
        var chain: [Unit] = []
        var next = units.values.first { $0.kind == .protocol && $0.name.location == analysis.location }
        while let unit = next, !chain.contains(where: { $0.name.name == unit.name.name }) {
            chain.append(unit)
            next = unit.extends.flatMap { units[$0.name] }
        }
        items = chain.reversed().flatMap(\.items)
        ownItems = chain.first?.items ?? []
        let name = chain.first?.name.name
        isExtended = name != nil && units.values.contains { $0.extends?.name == name }
        var roles: [String: RoleDeclaration] = [:]
        var predicates: [String: PredicateDeclaration] = [:]
        var guarantees: [SourceLocation: GuaranteeDeclaration] = [:]
        var expectations: [SourceLocation: ProtocolSyntax.Expectation] = [:]
        var transitions: [SourceLocation: ProtocolSyntax.Transition] = [:]
        for item in items {
            switch item {
            case .role(let declaration): roles[declaration.name.name] = declaration
            case .predicate(let declaration): predicates[declaration.name.name] = declaration
            case .guarantee(let declaration): guarantees[declaration.name.location] = declaration
            case .expectation(let expectation): expectations[expectation.location] = expectation
            case .machine(let machine):
                for transition in machine.transitions { transitions[transition.location] = transition }
            default: break
            }
        }
        self.roleDeclarations = roles
        self.predicates = predicates
        self.guarantees = guarantees
        self.expectations = expectations
        self.transitions = transitions
    }

    /// A model origin as a source location.
    public func location(_ origin: Origin) -> SourceLocation {
        SourceLocation(file: origin.file, line: origin.line, column: origin.column)
    }

    /// The global states the analysis found reachable; a protocol without machines has one, with
    /// no state.
    public var reachableStates: [[Int]] {
        definition.machines.isEmpty ? [[]] : analysis.reachableStates
    }

    /// The truth of `expression` if it is the same in every reachable state (true: it always holds;
    /// false: it never does); nil if it differs between states or is unknown in one.
    public func constantTruth(of expression: Expression) -> Bool? {
        var result: Bool? = nil
        for global in reachableStates {
            guard let value = analysis.truth(of: expression, in: global) else { return nil }
            if let result, result != value { return nil }
            result = value
        }
        return result
    }

    /// Whether a global state is one the analysis treats as finished: every machine `Connected`, or
    /// every machine `Closed`.
    public func isTerminal(_ global: [Int]) -> Bool {
        let connected = definition.states.first { $0.name == "Connected" }?.value
        let closed = definition.states.first { $0.name == "Closed" }?.value
        return !global.isEmpty && (global.allSatisfy { $0 == connected } || global.allSatisfy { $0 == closed })
    }

    /// `(fe=Closed, be=Initialising)`.
    public func describe(_ global: [Int]) -> String {
        let parts = zip(definition.machines, global).map { machine, state in
            "\(definition.directories[machine.directory].name)=\(definition.stateName(state))"
        }
        return "(" + parts.joined(separator: ", ") + ")"
    }

    /// `be/mode`, `fe.state`.
    public func name(of key: Key) -> String {
        let directory = definition.directories[key.pattern.directory].name
        return key.isState ? "\(directory).state" : "\(directory)/\(key.pattern)"
    }

    /// A key pattern with index variables written `{}`, to compare references with declarations.
    public static func shape(of pattern: KeyPattern) -> String {
        var text = "\(pattern.directory):"
        for (index, parts) in pattern.segments.enumerated() {
            if index > 0 { text += "/" }
            for part in parts {
                switch part {
                case .literal(let literal): text += literal
                case .index: text += "{}"
                }
            }
        }
        return text
    }

    /// A role and the role it aliases (`hotplug = backend` is the backend's domain).
    public func principals(of role: Int) -> Set<Int> {
        var result: Set<Int> = [role]
        if let alias = definition.roles[role].aliasOf { result.insert(alias) }
        return result
    }
}
