import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// The static analysis of a resolved protocol (design §5.5): roles against the directory ACLs,
/// observability of guards, machine sanity, and an exploration of the product of the state
/// machines that finds deadlocks, trap states and uncovered states and computes whose turn it is.
struct ProtocolAnalysis {
    var definition: ProtocolDefinition
    let syntax: SyntaxIndex
    var diagnostics: [Diagnostic] = []
    /// The reachable global states found by `explore()` (one state value per machine), in search order.
    private(set) var reachableStates: [[Int]] = []
    /// Per key machine (`definition.keyMachines`), the states an entry can reach, found by
    /// `exploreKeyMachines()`.
    var keyMachineReachableStates: [Set<Int>] = []

    init(definition: ProtocolDefinition, syntax: SyntaxIndex) {
        self.definition = definition
        self.syntax = syntax
    }

    private var location: SourceLocation { syntax.protocolLocation }

    func sourceLocation(_ origin: Origin) -> SourceLocation {
        SourceLocation(file: origin.file, line: origin.line, column: origin.column)
    }

    mutating func run() -> ProtocolDefinition {
        checkWritersAgainstPermissions()
        checkMachineRoles()
        checkObservability()
        explore()
        checkOverlappingGuards()
        exploreKeyMachines()
        return definition
    }

    // MARK: - Roles

    /// A role and the role it aliases (hotplug = backend).
    private func principals(_ role: Int) -> Set<Int> {
        var result: Set<Int> = [role]
        if let alias = definition.roles[role].aliasOf { result.insert(alias) }
        return result
    }

    func isPrivileged(_ role: Int) -> Bool { definition.roles[role].principal == .privileged }

    /// The privileged roles (the toolstack, and aliases of it).
    var privilegedRoles: RoleMask { RoleMask(definition.roles.indices.filter(isPrivileged)) }

    private func mask(_ mask: RoleMask, allows role: Int) -> Bool {
        principals(role).contains { mask.contains($0) }
            || definition.roles.indices.contains { mask.contains($0) && definition.roles[$0].aliasOf == role }
    }

    private func canWrite(_ role: Int, directory: Int) -> Bool {
        isPrivileged(role) || !principals(role).isDisjoint(with: principals(definition.directories[directory].owner))
    }

    func canRead(_ role: Int, directory: Int) -> Bool {
        let dir = definition.directories[directory]
        return canWrite(role, directory: directory) || dir.readers.contains { !principals($0).isDisjoint(with: principals(role)) }
    }

    /// Each writer or initialiser must be allowed to write the key's directory by the ACLs the
    /// toolstack sets (owner writes, readers read, the toolstack is privileged).
    private mutating func checkWritersAgainstPermissions() {
        for key in definition.keys {
            let directory = definition.directories[key.pattern.directory]
            for role in definition.roles.indices where key.writers.contains(role) || key.initializers.contains(role) {
                guard !canWrite(role, directory: key.pattern.directory) else { continue }
                diagnostics.append(
                    .error(
                        "E0741",
                        "role '\(definition.roles[role].name)' cannot write '\(directory.name)/\(key.pattern)': the directory is owned by '\(definition.roles[directory.owner].name)'",
                        at: sourceLocation(key.origin),
                        hint: "xenstore would refuse the write; only the owner and the privileged toolstack write a directory"))
            }
        }
    }

    /// Transitions are taken by roles that may write the state key.
    private mutating func checkMachineRoles() {
        for machine in definition.machines {
            let key = definition.keys[machine.key]
            let allowed = RoleMask(rawValue: key.writers.rawValue | key.initializers.rawValue)
            for transition in machine.transitions {
                for role in definition.roles.indices where transition.by.contains(role) && !mask(allowed, allows: role) {
                    diagnostics.append(
                        .error(
                            "E0740",
                            "'\(definition.roles[role].name)' takes a transition of '\(definition.directories[machine.directory].name).state' but is not among its writers",
                            at: sourceLocation(transition.origin), hint: "add it to the key's 'writer' list, or remove it from 'by'"))
                }
            }
            checkDuplicateTransitions(machine)
        }
        // A key machine's roles are checked against its key's writers when it is resolved (W0746).
        for machine in definition.keyMachines { checkDuplicateTransitions(machine) }
    }

    /// Identical unguarded transitions are redundant.
    private mutating func checkDuplicateTransitions(_ machine: Machine) {
        var seen: Set<String> = []
        for transition in machine.transitions where transition.guardProgram == nil {
            let signature = "\(transition.from.rawValue)-\(transition.to)-\(transition.by.rawValue)"
            if !seen.insert(signature).inserted {
                diagnostics.append(
                    .warning(
                        "W0745", "duplicate transition to '\(definition.stateName(transition.to))'", at: sourceLocation(transition.origin)))
            }
        }
    }

    /// A guard of role R may only read what R can read; an obligation should only mention what R
    /// controls or what is frozen, so that an unmet obligation is R's fault alone.
    private mutating func checkObservability() {
        for (machineIndex, machine) in definition.machines.enumerated() {
            for (transitionIndex, transition) in machine.transitions.enumerated() {
                checkGuardObservability(transition.by, reads: syntax.guardKeys[machineIndex][transitionIndex])
                for role in definition.roles.indices where transition.by.contains(role) {
                    for (pattern, keyLocation) in syntax.obligationKeys[machineIndex][transitionIndex] {
                        guard
                            let key = definition.keys.first(where: {
                                KeySegments.shape(of: $0.pattern) == KeySegments.shape(of: pattern)
                                    && $0.pattern.directory == pattern.directory
                            })
                        else { continue }
                        let controls = mask(RoleMask(rawValue: key.writers.rawValue | key.initializers.rawValue), allows: role)
                        let frozen = key.writers.isEmpty || key.phase != nil
                        if !controls && !frozen {
                            diagnostics.append(
                                .warning(
                                    "W0740",
                                    "the obligation of a transition by '\(definition.roles[role].name)' mentions '\(definition.directories[pattern.directory].name)/\(pattern)', which another role may change at any time",
                                    at: keyLocation,
                                    hint:
                                        "if it fails, the blame could not be put on '\(definition.roles[role].name)' reliably; give the key a 'phase'"
                                ))
                        }
                    }
                }
            }
        }
        // Key machines have no obligations (E0752).
        for (machineIndex, machine) in definition.keyMachines.enumerated() {
            for (transitionIndex, transition) in machine.transitions.enumerated() {
                checkGuardObservability(transition.by, reads: syntax.keyMachineGuardKeys[machineIndex][transitionIndex])
            }
        }
    }

    /// Each role taking a transition must be able to read every key its guard reads.
    private mutating func checkGuardObservability(_ roles: RoleMask, reads keys: [(KeyPattern, SourceLocation)]) {
        for role in definition.roles.indices where roles.contains(role) {
            for (pattern, keyLocation) in keys where !canRead(role, directory: pattern.directory) {
                diagnostics.append(
                    .error(
                        "E0742",
                        "the guard of a transition by '\(definition.roles[role].name)' reads '\(definition.directories[pattern.directory].name)/\(pattern)', which '\(definition.roles[role].name)' cannot read",
                        at: keyLocation,
                        hint: "a role can only act on what it can observe; add it to the directory's readers or change the guard"))
            }
        }
    }

    // MARK: - Product exploration

    /// Three-valued evaluation results.
    enum Abstract: Equatable {
        case bool(Bool)
        case int(Int128)
        case string(String)
        case set([Abstract])
        case unknown
    }

    /// Bounds the work of abstract evaluation: nested predicates can make one evaluation exponential.
    /// One budget bounds one evaluation, or all those of an exploration (`explorationSteps`).
    final class Budget {
        var remaining: Int
        init(_ remaining: Int = 100_000) { self.remaining = remaining }
        /// Whether evaluations have been cut short: they returned unknown instead.
        var isExhausted: Bool { remaining <= 0 }
    }

    /// Evaluation steps one exploration may take in all: it evaluates every guard in every global
    /// state, and each evaluation may take up to the budget of one. The shipped protocols stay far below
    /// it; it is a few tenths of a second in a debug build.
    static let explorationSteps = 1_000_000
    /// Global states the product exploration visits at most. Two machines of 32 states have 1024;
    /// each further machine multiplies the product, so without a bound a protocol with many
    /// directories would be explored for ever.
    static let maximumGlobalStates = 4096

    /// Reports that the exploration of `what` hit its bound (`W0750`); `consequence` says what was
    /// left out or approximated.
    mutating func reportExplorationBound(_ what: String, _ consequence: String) {
        diagnostics.append(
            .warning(
                "W0750", "\(what); \(consequence)", at: location,
                hint: "split the protocol, or simplify its guards and predicates, so that the analysis can finish"))
    }

    struct Context {
        var states: [Int: Int]
        var budget = Budget()
        var locals: [String: Abstract] = [:]
        var prefixes: [String: String] = [:]
        var depth = 0
        /// Whether what the checker's tracking implies of the states is used: `seen(d.state, S)` holds
        /// when `d` is in `S` (the seen set always holds the current state), and `present(d/state)`
        /// when `d` is in a state other than Unknown (a missing state key reads as Unknown). Only the
        /// turn table uses it; the exploration and lint keep both unknown, as they always have.
        var statesTracked = false
    }

    func evaluate(_ expression: Expression, _ context: Context) -> Abstract {
        context.budget.remaining -= 1
        guard context.depth < 32, context.budget.remaining > 0 else { return .unknown }
        switch expression {
        case .integer(let value, _): return .int(value)
        case .string(let value, _): return .string(value)
        case .name(let name):
            if let local = context.locals[name.name] { return local }
            if let value = syntax.names.states[name.name] { return .int(Int128(value)) }
            if let predicate = syntax.names.predicates[name.name], predicate.parameters.isEmpty {
                var inner = context
                inner.depth += 1
                return evaluate(predicate.body, inner)
            }
            return .unknown
        case .key(let reference):
            guard reference.segments == nil else { return .unknown }
            let name = context.prefixes[reference.directory.name] ?? reference.directory.name
            guard let directory = syntax.names.directories[name], let state = context.states[directory] else { return .unknown }
            return .int(Int128(state))
        case .set(let elements, _):
            return .set(elements.map { evaluate($0, context) })
        case .call(let name, let arguments):
            if context.statesTracked, let known = trackedStateTruth(name.name, arguments, context) { return .bool(known) }
            guard let predicate = syntax.names.predicates[name.name], predicate.parameters.count == arguments.count else { return .unknown }
            var inner = context
            inner.depth += 1
            for (parameter, argument) in zip(predicate.parameters, arguments) {
                if case .name(let identifier) = argument,
                    syntax.names.directories[context.prefixes[identifier.name] ?? identifier.name] != nil
                {
                    inner.prefixes[parameter.name] = context.prefixes[identifier.name] ?? identifier.name
                } else if case .key(let reference) = argument, reference.segments != nil {
                    inner.prefixes[parameter.name] = nil
                    inner.locals[parameter.name] = .unknown
                } else {
                    inner.locals[parameter.name] = evaluate(argument, context)
                }
            }
            return evaluate(predicate.body, inner)
        case .forall: return .unknown
        case .conditional(let condition, let then, let otherwise, _):
            switch evaluate(condition, context) {
            case .bool(true): return evaluate(then, context)
            case .bool(false): return evaluate(otherwise, context)
            default:
                let a = evaluate(then, context)
                return a == evaluate(otherwise, context) ? a : .unknown
            }
        case .not(let operand, _):
            if case .bool(let value) = evaluate(operand, context) { return .bool(!value) }
            return .unknown
        case .binary(let operation, let lhs, let rhs):
            let a = evaluate(lhs, context)
            switch operation {
            case .and:
                if a == .bool(false) { return .bool(false) }
                let b = evaluate(rhs, context)
                if b == .bool(false) { return .bool(false) }
                return a == .bool(true) && b == .bool(true) ? .bool(true) : .unknown
            case .or, .implies:
                let left: Abstract =
                    operation == .implies ? (a == .bool(true) ? .bool(false) : a == .bool(false) ? .bool(true) : .unknown) : a
                if left == .bool(true) { return .bool(true) }
                let b = evaluate(rhs, context)
                if b == .bool(true) { return .bool(true) }
                return left == .bool(false) && b == .bool(false) ? .bool(false) : .unknown
            default:
                let b = evaluate(rhs, context)
                switch (a, b) {
                case (.int(let x), .int(let y)):
                    switch operation {
                    case .equal: return .bool(x == y)
                    case .notEqual: return .bool(x != y)
                    case .less: return .bool(x < y)
                    case .lessEqual: return .bool(x <= y)
                    case .greater: return .bool(x > y)
                    case .greaterEqual: return .bool(x >= y)
                    default: return .unknown
                    }
                case (.string(let x), .string(let y)):
                    if operation == .equal { return .bool(x == y) }
                    if operation == .notEqual { return .bool(x != y) }
                    return .unknown
                default: return .unknown
                }
            }
        case .inRange(let value, let range):
            guard case .int(let x) = evaluate(value, context), case .int(let low) = evaluate(range.lower, context),
                case .int(let high) = evaluate(range.upper, context)
            else { return .unknown }
            return .bool(low <= x && x < high)
        case .inSet(let value, let set):
            let element = evaluate(value, context)
            guard element != .unknown, case .set(let members) = evaluate(set, context) else { return .unknown }
            if members.contains(element) { return .bool(true) }
            return members.contains(.unknown) ? .unknown : .bool(false)
        }
    }

    /// `seen(d.state, S)`, `present(d/state)` and `absent(d/state)` where the state of `d` decides them.
    private func trackedStateTruth(_ function: String, _ arguments: [Expression], _ context: Context) -> Bool? {
        guard case .key(let reference) = arguments.first,
            let directory = syntax.names.directories[context.prefixes[reference.directory.name] ?? reference.directory.name],
            let state = context.states[directory], state != 0
        else { return nil }
        switch function {
        case "seen" where arguments.count == 2 && reference.segments == nil:
            guard case .name(let name) = arguments[1], let value = syntax.names.states[name.name], value == state else { return nil }
            return true
        case "present", "absent":
            guard arguments.count == 1, reference.segments == ["state"] else { return nil }
            return function == "present"
        default:
            return nil
        }
    }

    /// The three-valued truth of `expression` when the machines are in `global` (nil: unknown), for lint.
    func truth(of expression: Expression, in global: [Int]) -> Bool? {
        let states = Dictionary(zip(definition.machines.map(\.directory), global), uniquingKeysWith: { first, _ in first })
        guard case .bool(let value) = evaluate(expression, Context(states: states)) else { return nil }
        return value
    }

    func mayHold(_ expression: Expression?, _ states: [Int: Int], budget: Budget = Budget()) -> Bool {
        guard let expression else { return true }
        return evaluate(expression, Context(states: states, budget: budget)) != .bool(false)
    }

    private func mayFail(_ expression: Expression, _ states: [Int: Int], budget: Budget = Budget()) -> Bool {
        evaluate(expression, Context(states: states, budget: budget)) != .bool(true)
    }

    private mutating func explore() {
        let machines = definition.machines
        guard !machines.isEmpty else { return }
        let initial: [Int] = machines.map { machine in
            definition.keys[machine.key].initialValue.flatMap { Int($0) } ?? 0
        }
        let connected = definition.states.first { $0.name == "Connected" }?.value
        let closed = definition.states.first { $0.name == "Closed" }?.value
        func isTerminal(_ global: [Int]) -> Bool {
            global.allSatisfy { $0 == connected } || global.allSatisfy { $0 == closed }
        }
        func environment(_ global: [Int]) -> [Int: Int] {
            Dictionary(uniqueKeysWithValues: zip(machines.map(\.directory), global))
        }
        let budget = Budget(Self.explorationSteps)
        /// Enabled progress transitions: (machine, transition) pairs whose guard may hold.
        func enabled(_ global: [Int]) -> [(Int, Int)] {
            var result: [(Int, Int)] = []
            let env = environment(global)
            for (m, machine) in machines.enumerated() {
                for (t, transition) in machine.transitions.enumerated()
                where transition.from.contains(global[m]) && transition.to != global[m]
                    && mayHold(syntax.guards[m][t], env, budget: budget)
                {
                    result.append((m, t))
                }
            }
            return result
        }
        var reachable: Set<[Int]> = [initial]
        var order: [[Int]] = [initial]
        var successors: [[Int]: [[Int]]] = [:]
        var cursor = 0
        while cursor < order.count {
            guard order.count <= Self.maximumGlobalStates, !budget.isExhausted else {
                // What was found so far is not all that is reachable: conclusions drawn from it
                // (never reached, deadlocks, traps, coverage, lint's) would be wrong, so none are.
                reportExplorationBound(
                    order.count > Self.maximumGlobalStates
                        ? "the state machines have more than \(Self.maximumGlobalStates) reachable global states"
                        : "evaluating the guards in the product exploration took more than \(Self.explorationSteps) steps",
                    "the exploration stopped, and unreached states, deadlocks, trap states, liveness coverage and the turn table were not checked"
                )
                return
            }
            let global = order[cursor]
            cursor += 1
            for (m, t) in enabled(global) {
                var next = global
                next[m] = machines[m].transitions[t].to
                successors[global, default: []].append(next)
                if reachable.insert(next).inserted { order.append(next) }
            }
        }
        reachableStates = order
        let snapshot = definition
        func names(_ global: [Int]) -> String {
            "("
                + zip(machines, global).map { "\(snapshot.directories[$0.directory].name)=\(snapshot.stateName($1))" }.joined(
                    separator: ", ") + ")"
        }

        // States named as sources of transitions but never reached make those transitions dead.
        for (m, machine) in machines.enumerated() {
            reportUnreachedSources(
                machine, reached: Set(reachable.map { $0[m] }), name: "\(definition.directories[machine.directory].name).state",
                locations: syntax.transitionLocations[m])
        }

        // Deadlocks: nobody but the toolstack can move, and the handshake is not finished.
        let teardown: Set<Int> = Set(definition.states.filter { $0.name == "Closing" || $0.name == "Closed" }.map(\.value))
        var deadlocks: [String] = []
        var turns: [Turn] = []
        let satisfiability = ConditionSatisfiability(
            predicates: syntax.names.predicates, budget: Budget(ConditionSatisfiability.turnTableSteps))
        for global in order where !isTerminal(global) {
            let progress = enabled(global).contains { m, t in
                machines[m].transitions[t].by.rawValue & ~privilegedRoles.rawValue != 0
            }
            if !progress { deadlocks.append(names(global)) }
            if machines.count == 2 { turns += turnRows(global, teardown: teardown, closed: closed, satisfiability: satisfiability) }
        }
        if !deadlocks.isEmpty {
            diagnostics.append(
                .warning(
                    "W0743",
                    "\(deadlocks.count) reachable state(s) where only the toolstack can act: \(deadlocks.prefix(8).joined(separator: " "))\(deadlocks.count > 8 ? " ..." : "")",
                    at: location, hint: "a handshake stuck here ends only by the toolstack's teardown"))
        }
        definition.turns = turns

        // Trap states: Closed (everywhere) must stay reachable.
        if closed != nil {
            // Backwards from the all-Closed states, each state once (a fixpoint over all states
            // would be quadratic in them).
            var predecessors: [[Int]: [[Int]]] = [:]
            for (global, nexts) in successors {
                for next in nexts { predecessors[next, default: []].append(global) }
            }
            var canClose: Set<[Int]> = Set(order.filter { $0.allSatisfy { $0 == closed } })
            var queue = Array(canClose)
            while let global = queue.popLast() {
                for previous in predecessors[global] ?? [] where canClose.insert(previous).inserted { queue.append(previous) }
            }
            let traps = order.filter { !canClose.contains($0) }
            if !traps.isEmpty {
                diagnostics.append(
                    .warning(
                        "W0742",
                        "\(traps.count) reachable state(s) from which Closed cannot be reached: \(traps.prefix(8).map(names).joined(separator: " "))",
                        at: location, hint: "every state needs a way to close"))
            }
        }

        // Liveness coverage: every reachable non-terminal state should arm some expectation.
        var uncovered: [String] = []
        for global in order where !isTerminal(global) {
            let env = environment(global)
            let covered = syntax.expectationTriggers.indices.contains { index in
                mayHold(syntax.expectationTriggers[index], env, budget: budget)
                    && mayFail(syntax.expectationConditions[index], env, budget: budget)
            }
            if !covered { uncovered.append(names(global)) }
        }
        if !uncovered.isEmpty {
            diagnostics.append(
                .warning(
                    "W0744",
                    "\(uncovered.count) reachable state(s) have no liveness expectation: \(uncovered.prefix(8).joined(separator: " "))\(uncovered.count > 8 ? " ..." : "")",
                    at: location, hint: "add an 'expect ... within ... after ...' so that a stall there is blamed on someone"))
        }
        if budget.isExhausted {
            reportExplorationBound(
                "evaluating the guards and expectations in the product exploration took more than \(Self.explorationSteps) steps",
                "those evaluated after that counted as unknown, so deadlocks and states without a liveness expectation may be missed"
                    + " and the turn table is approximate")
        }
    }
}

extension ProtocolAnalysis {
    /// `W0741` for each state that a transition of `machine` starts from but that is not `reached`
    /// (once per state), at the first such transition: transitions from it can never be taken.
    mutating func reportUnreachedSources(_ machine: Machine, reached: Set<Int>, name: String, locations: [SourceLocation]) {
        var reported: Set<Int> = []
        for (t, transition) in machine.transitions.enumerated() where transition.from != .all {
            for state in definition.states.map(\.value)
            where transition.from.contains(state) && !reached.contains(state) && reported.insert(state).inserted {
                diagnostics.append(
                    .warning(
                        "W0741", "state '\(definition.stateName(state))' of '\(name)' is never reached", at: locations[t],
                        hint: "transitions from it can never be taken"))
            }
        }
    }
}
