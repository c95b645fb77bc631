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
        let verdict = judgeTransition(
            machine, roles: compiled.keyMachineTransitionRoles[machineIndex], guards: compiled.keyMachineGuards[machineIndex],
            presets: indexValues, from: from, to: to, instance, subject: "\(compiled.directoryNames[directory])/\(relative)",
            machineName: CompiledProtocol.keyMachineName(compiled.definition, machine), path: path, event: event,
            connection: connection, writerRoles: roles, who: who)
        if case .violated = verdict { return .violated }
        return .passed
    }

    /// The state a key value stands for, if it is a decimal number that is one of the protocol's states.
    private func stateValue(_ text: String, _ compiled: CompiledProtocol) -> Int? {
        guard let number = Evaluator.decimal(text), number < 32, compiled.validStates & (1 << UInt32(number)) != 0 else { return nil }
        return Int(number)
    }
}
