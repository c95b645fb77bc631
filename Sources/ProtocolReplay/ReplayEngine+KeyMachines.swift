import ProtocolModel
import XenstoreTrace

/// Judging a write of a key that a key machine drives (pci's `be/state-{n}`): each entry of the key
/// family is its own machine (docs/protocol-language.md, "Key machines").
extension ReplayEngine {
    /// Judges the change of an existing entry's value against the machine's transitions, with the
    /// entry's index values bound in the guards. Creating an entry, rewriting its value, or a value
    /// that is not a state (the type check reports that) is not a transition.
    func judgeKeyMachine(
        _ machineIndex: Int, _ instance: Instance, _ directory: Int, relative: Substring, value: String, indexValues: [Int],
        path: MessagePath, event: TraceEvent, connection: ConnectionID, roles: UInt32, who: String
    ) -> Judged {
        let compiled = instance.protocolDefinition
        guard let current = instance.directories[directory][relative]?.value, let from = stateValue(current, compiled),
            let to = stateValue(value, compiled), from != to
        else { return .passed }
        let machine = compiled.definition.keyMachines[machineIndex]
        let machineName = CompiledProtocol.keyMachineName(compiled.definition, machine)
        let entry = "\(compiled.directoryNames[directory])/\(relative)"
        let change = "\(compiled.definition.stateName(from)) -> \(compiled.definition.stateName(to))"
        let rule = "transition \(machineName) \(change)"
        let candidates = machine.transitions.indices.filter {
            machine.transitions[$0].from.contains(from) && machine.transitions[$0].to == to
        }
        let byRole = candidates.filter { compiled.canonicalMask(machine.transitions[$0].by) & roles != 0 }
        guard !byRole.isEmpty else {
            let others =
                candidates.isEmpty
                ? ""
                : " (only the \(compiled.roleNames(candidates.reduce(0) { $0 | compiled.canonicalMask(machine.transitions[$1].by) }).joined(separator: "/")) may take it)"
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: rule,
                origin: candidates.first.map { machine.transitions[$0].origin } ?? machine.origin,
                message: "illegal transition \(change) of \(entry) by \(who)\(others)", path: path.string)
            return .violated
        }
        for candidate in byRole {
            if let guardProgram = compiled.keyMachineGuards[machineIndex][candidate],
                !holds(guardProgram, instance, presets: indexValues)
            {
                continue
            }
            return .passed
        }
        report(
            instance, .violation, line: event.line, domid: connection.domid, role: who, rule: rule,
            origin: machine.transitions[byRole[0]].origin,
            message: "\(who) takes \(entry) \(change) when its guard does not hold (\(stateSummary(instance)))", path: path.string)
        return .violated
    }

    /// The state a key value stands for, if it is a decimal number that is one of the protocol's states.
    private func stateValue(_ text: String, _ compiled: CompiledProtocol) -> Int? {
        guard let number = Evaluator.decimal(text), number < 32, compiled.validStates & (1 << UInt32(number)) != 0 else { return nil }
        return Int(number)
    }
}
