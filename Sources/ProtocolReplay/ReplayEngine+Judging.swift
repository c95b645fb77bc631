import ProtocolModel
import XenstoreTrace

/// Judging one mutating message: never guarantees, key, writer, phase, type and transition
/// (`docs/replay.md`, "Judging a message").
extension ReplayEngine {
    struct Checks: OptionSet {
        let rawValue: Int
        /// `never` guarantees.
        static let never = Checks(rawValue: 1)
        /// Key resolution (`unknown_keys`), writer and type.
        static let key = Checks(rawValue: 2)
        /// Phase and, for `state` keys, the transition.
        static let state = Checks(rawValue: 4)
    }

    func judge(
        _ instance: Instance, _ directory: Int, relative: Substring, fixedKey: Int = -2, facts: KeyFacts = .unknown, path: MessagePath,
        event: TraceEvent, connection: ConnectionID, checks: Checks,
        transition: (machine: Int, transition: Int, roles: UInt32, from: Int)?
    ) -> Judged {
        var transition = transition
        var typeViolated = false
        var resolvedKey = -1
        return judge(
            instance, directory, relative: relative, fixedKey: fixedKey, facts: facts, path: path, event: event, connection: connection,
            checks: checks, transition: &transition, typeViolated: &typeViolated, resolvedKey: &resolvedKey)
    }

    /// Judges a mutating message in the order never, key (unknown keys), writer, phase, type, transition;
    /// reports the first rule it breaks.
    func judge(
        _ instance: Instance, _ directory: Int, relative: Substring, fixedKey: Int, facts: KeyFacts, path: MessagePath,
        event: TraceEvent, connection: ConnectionID, checks: Checks,
        transition: inout (machine: Int, transition: Int, roles: UInt32, from: Int)?, typeViolated: inout Bool,
        resolvedKey: inout Int
    ) -> Judged {
        let compiled = instance.protocolDefinition
        let roles = instance.roles(domid: connection.domid, privileged: connection.isPrivileged)
        let operation: OperationMask
        let verb: String
        switch event.operation {
        case .write:
            operation = .write
            verb = "writes"
        case .mkdir:
            operation = .mkdir
            verb = "creates"
        case .rm:
            operation = .rm
            verb = "removes"
        case .setPermissions:
            operation = .setPermissions
            verb = "sets the permissions of"
        default: return .passed
        }
        lazy var who = label(roles, domid: connection.domid, instance: instance)
        // Names for reports only, made when one is (most messages break no rule).
        lazy var directoryName = compiled.directoryNames[directory]
        lazy var shown = relative.isEmpty ? directoryName : "\(directoryName)/\(relative)"

        if checks.contains(.never), roles != 0 {
            for rule in compiled.neversOfDirectory[directory] where rule.operations.contains(operation) && roles & ~rule.roles == 0 {
                guard Self.anyGlobMatches(rule, directory, relative) else { continue }
                if let unless = rule.unless, holds(unless, instance) { continue }
                let guarantee = rule.guarantee
                for (domid, role) in blamed(guarantee.blame, instance, writer: connection, writerRoles: roles) {
                    report(
                        instance, .violation, line: event.line, domid: domid, role: role, rule: "guarantee \(guarantee.name)",
                        origin: guarantee.origin, message: "\(who) \(verb) \(shown), which guarantee \(guarantee.name) forbids",
                        path: path.string)
                }
                return .violated
            }
        }
        // The directory node itself is governed by the guarantees only.
        guard !relative.isEmpty, checks.contains(.key) || checks.contains(.state) else { return .passed }

        // Inside a transaction the bounds of index variables and key conditions are a property of the
        // committed view, which the trace may not show: match the pattern only (docs/replay.md).
        guard
            let (keyIndex, indexValues, position) = resolveKeyAndPosition(
                instance, directory, relative, fixedKey: fixedKey, shapes: facts.shapes, strict: event.transaction == nil)
        else {
            guard checks.contains(.key) else { return .passed }
            if !checks.contains(.state) { return .deferred }
            switch compiled.definition.unknownKeys {
            case .allow: break
            case .audit:
                report(
                    instance, .audit, line: event.line, domid: connection.domid, role: who, rule: "unknown key",
                    origin: compiled.definition.origin, message: "\(who) \(verb) \(shown), which the description does not declare",
                    path: path.string)
            case .deny:
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "unknown key",
                    origin: compiled.definition.origin,
                    message: "\(who) \(verb) \(shown), which the description does not declare (unknown_keys = deny)", path: path.string)
                return .violated
            }
            return .passed
        }
        resolvedKey = keyIndex
        let key = compiled.keys[keyIndex]
        // The reading thread checked the value against the key's type, if it could tell the key.
        func typeProblem(_ value: String) -> String? {
            facts.fits(position: position) == true ? nil : self.typeProblem(key, value, compiled)
        }
        let writerRoles = roles & key.writers
        let initialiserRoles = instance.creating ? roles & key.initializers : 0

        if checks.contains(.key), writerRoles == 0 && initialiserRoles == 0 {
            let allowed = compiled.roleNames(key.writers)
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): writer",
                origin: key.key.origin,
                message: "\(who) \(verb) \(key.name)\(key.fixed == nil ? " (\(relative))" : ""), which "
                    + (allowed.isEmpty
                        ? "only the \(compiled.roleNames(key.initializers).joined(separator: "/")) initialises"
                        : "only the \(allowed.joined(separator: "/")) may change"),
                path: path.string)
            return .violated
        }
        // While the toolstack creates the instance, an initialiser's write sets the initial value: no
        // phase, no transition, but the declared initial value.
        if initialiserRoles != 0 {
            if checks.contains(.key), case .write = event.operation, let initial = key.key.initialValue, (event.value ?? "") != initial,
                !event.truncated, typeProblem(event.value ?? "") == nil
            {
                let expected = key.key.isState ? compiled.definition.stateName(Int(initial) ?? -1) : "'\(initial)'"
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): init",
                    origin: key.key.origin,
                    message: "\(who) initialises \(key.name) to '\(Self.excerpt(event.value ?? ""))' instead of \(expected)",
                    path: path.string)
                return .violated
            }
            if checks.contains(.key), case .write = event.operation, !event.truncated,
                let problem = typeProblem(event.value ?? "")
            {
                typeViolated = true
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): type",
                    origin: key.key.origin,
                    message:
                        "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) = '\(Self.excerpt(event.value ?? ""))', which is not \(problem)",
                    path: path.string)
                return .violated
            }
            return .passed
        }
        if checks.contains(.state), let phase = key.key.phase, writerRoles != 0 {
            var allowed = false
            // The roles whose own side's state kept them out, named only in a report (a dom0 backend's
            // own side often does, before its toolstack role allows the write).
            var refused: UInt32 = 0
            var remaining = writerRoles
            while remaining != 0 {
                let role = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                guard let own = compiled.ownedDirectory[role], compiled.stateKey[own] != nil else {
                    allowed = true
                    break
                }
                if phase.contains(instance.states[own]) {
                    allowed = true
                    break
                }
                refused |= 1 << UInt32(role)
            }
            if !allowed {
                var states: [String] = []
                while refused != 0 {
                    let own = compiled.ownedDirectory[refused.trailingZeroBitCount]!
                    refused &= refused - 1
                    states.append("\(compiled.directoryNames[own]).state is \(compiled.definition.stateName(instance.states[own]))")
                }
                let permitted = compiled.definition.states.filter { phase.contains($0.value) }.map(\.name).joined(separator: ", ")
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): phase",
                    origin: key.key.origin,
                    message:
                        "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) while \(states.joined(separator: " and ")) (allowed in \(permitted))",
                    path: path.string)
                return .violated
            }
        }
        guard case .write = event.operation else { return .passed }
        let value = event.value ?? ""
        if checks.contains(.key), !event.truncated, let problem = typeProblem(value) {
            typeViolated = true
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): type",
                origin: key.key.origin,
                message:
                    "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) = '\(Self.excerpt(value))', which is not \(problem)",
                path: path.string)
            return .violated
        }
        if checks.contains(.state), !key.key.isState, let keyMachine = compiled.keyMachineOfKey[keyIndex] {
            return judgeKeyMachine(
                keyMachine, instance, directory, relative: relative, value: value, indexValues: indexValues, path: path, event: event,
                connection: connection, roles: roles, who: who)
        }
        guard checks.contains(.state), key.key.isState, let machineIndex = compiled.machineOfDirectory[directory],
            let number = Evaluator.decimal(value), number < 32, compiled.definition.states.contains(where: { $0.value == Int(number) })
        else { return .passed }
        let to = Int(number)
        let from = instance.states[directory]
        switch judgeTransition(
            compiled.definition.machines[machineIndex], roles: compiled.transitionRoles[machineIndex],
            guards: compiled.guards[machineIndex], presets: [], from: from, to: to, instance, subject: "\(directoryName).state",
            machineName: "\(directoryName).state", path: path, event: event, connection: connection, writerRoles: roles, who: who)
        {
        case .violated: return .violated
        case .unchanged: return .passed
        case .taken(let taken):
            transition = (machineIndex, taken, compiled.transitionRoles[machineIndex][taken] & roles, from)
            return .passed
        }
    }

    /// What ``judgeTransition(_:roles:guards:presets:from:to:_:subject:machineName:path:event:connection:writerRoles:who:)`` found.
    enum TransitionVerdict {
        /// The current state was written again, and the machine declares no transition for that.
        case unchanged
        /// This transition of the machine was taken.
        case taken(Int)
        /// No transition allows the change (reported).
        case violated
    }

    /// Judges a change `from -> to` of a machine's state by a writer with `writerRoles`: some
    /// transition with that source and target must be open to one of the roles, and its guard must
    /// hold before the write (with `presets` as the guard's first locals); reports a violation.
    /// Rewriting the current state is no transition unless the machine declares one. `subject` names what changes in messages
    /// (`fe.state`, `be/state-0`); `machineName` names the machine in the rule (`be/state-{n}`).
    /// Report strings are built only when there is something to report: state writes are frequent.
    func judgeTransition(
        _ machine: Machine, roles transitionRoles: [UInt32], guards: [CompiledProgram?], presets: [Int], from: Int, to: Int,
        _ instance: Instance, subject: @autoclosure () -> String, machineName: @autoclosure () -> String, path: MessagePath,
        event: TraceEvent, connection: ConnectionID, writerRoles: UInt32, who: @autoclosure () -> String
    ) -> TransitionVerdict {
        let compiled = instance.protocolDefinition
        // One pass over the transitions, without collecting them: the first candidate (source and
        // target match) and the roles of all of them, for a report; the guards of those open to the
        // writer in order, until one holds.
        var firstCandidate = -1
        var candidateRoles: UInt32 = 0
        var firstByRole = -1
        for index in machine.transitions.indices where machine.transitions[index].from.contains(from) && machine.transitions[index].to == to
        {
            if firstCandidate < 0 { firstCandidate = index }
            candidateRoles |= transitionRoles[index]
            guard transitionRoles[index] & writerRoles != 0 else { continue }
            if firstByRole < 0 { firstByRole = index }
            if let guardProgram = guards[index], !holds(guardProgram, instance, presets: presets) { continue }
            return .taken(index)
        }
        if from == to && firstCandidate < 0 { return .unchanged }
        func change() -> String { "\(compiled.definition.stateName(from)) -> \(compiled.definition.stateName(to))" }
        guard firstByRole >= 0 else {
            let origin = firstCandidate >= 0 ? machine.transitions[firstCandidate].origin : machine.origin
            let others =
                firstCandidate < 0 ? "" : " (only the \(compiled.roleNames(candidateRoles).joined(separator: "/")) may take it)"
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who(),
                rule: "transition \(machineName()) \(change())", origin: origin,
                message: "illegal transition \(change()) of \(subject()) by \(who())\(others)", path: path.string)
            return .violated
        }
        report(
            instance, .violation, line: event.line, domid: connection.domid, role: who(),
            rule: "transition \(machineName()) \(change())", origin: machine.transitions[firstByRole].origin,
            message: "\(who()) takes \(subject()) \(change()) when its guard does not hold (\(stateSummary(instance)))",
            path: path.string)
        return .violated
    }

    func stateSummary(_ instance: Instance) -> String {
        let compiled = instance.protocolDefinition
        return compiled.definition.machines.map {
            "\(compiled.directoryNames[$0.directory]).state is \(compiled.definition.stateName(instance.states[$0.directory]))"
        }.joined(separator: ", ")
    }

    static func excerpt(_ value: String) -> String {
        value.count <= 64 ? value : String(value.prefix(61)) + "..."
    }

    /// What a value should have been, if it does not have the key's type.
    func typeProblem(_ key: CompiledKey, _ value: String, _ compiled: CompiledProtocol) -> String? {
        key.valueCheck.fits(value) ? nil : Self.typeDescription(key.valueCheck, compiled)
    }

    /// The type of a key, as reports say what a value should have been.
    static func typeDescription(_ check: ValueTypeCheck, _ compiled: CompiledProtocol) -> String {
        switch check.type {
        case .unsigned(let lower, let upper):
            return "a decimal number in [\(lower), \(upper))"
        case .string(let pattern):
            guard check.patternCompiles else { return "a string matching \(pattern ?? "") (the pattern does not compile)" }
            return "a string matching \(pattern ?? "")"
        case .literals(let values):
            return "one of \(values.map { "'\($0)'" }.joined(separator: ", "))"
        case .state:
            return "a state (\(compiled.definition.states.map { "\($0.value) \($0.name)" }.joined(separator: ", ")))"
        }
    }
}
