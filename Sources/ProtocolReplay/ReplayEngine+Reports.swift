import ProtocolModel
import XenstoreTrace

/// Roles of connections, blame, and findings with their deduplication.
extension ReplayEngine {
    static func roles(_ compiled: CompiledProtocol, parameters: [Int], domid: Int, privileged: Bool) -> UInt32 {
        var mask: UInt32 = 0
        for (role, value) in compiled.definition.roles.enumerated() where role < 32 {
            switch value.principal {
            case .parameter(let index):
                if index >= 0, index < parameters.count, parameters[index] == domid { mask |= 1 << UInt32(compiled.canonical[role]) }
            case .privileged:
                if privileged { mask |= 1 << UInt32(compiled.canonical[role]) }
            }
        }
        return mask
    }

    static func label(_ compiled: CompiledProtocol, _ roles: UInt32, domid: Int) -> String {
        let names = compiled.roleNames(roles)
        switch names.count {
        case 0: return "other"
        case 1: return names[0]
        default: return "dom\(domid) (\(names.joined(separator: "/")))"
        }
    }

    func label(_ roles: UInt32, domid: Int, instance: Instance) -> String {
        Self.label(instance.protocolDefinition, roles, domid: domid)
    }

    static func instanceName(_ compiled: CompiledProtocol, _ parameters: [Int]) -> String {
        var name = compiled.definition.name
        for (index, parameter) in compiled.definition.parameters.enumerated() where index < parameters.count && parameters[index] >= 0 {
            name += " \(parameter)=\(parameters[index])"
        }
        return name
    }

    static func verb(_ operation: XenstoreTrace.Operation) -> String {
        switch operation {
        case .write: "writes"
        case .mkdir: "creates"
        case .rm: "removes"
        case .setPermissions: "sets the permissions of"
        default: "uses"
        }
    }

    /// The parties a rule blames: the writer, a named role (its domain; "dom0 (backend/toolstack)" when
    /// that domain plays several roles), or whose turn it is in the current global state.
    func blamed(_ blame: Blame, _ instance: Instance, writer: ConnectionID?, writerRoles: UInt32? = nil) -> [(Int, String)] {
        let compiled = instance.protocolDefinition
        switch blame {
        case .writer:
            guard let writer else { return blamed(.turn, instance, writer: nil) }
            let roles = writerRoles ?? instance.roles(domid: writer.domid, privileged: writer.isPrivileged)
            return [(writer.domid, label(roles, domid: writer.domid, instance: instance))]
        case .role(let role):
            return [party(role, instance)]
        case .turn:
            var roles = turnRoles(instance)
            if roles == 0 { roles = compiled.privilegedRoles }
            var parties: [(Int, String)] = []
            var remaining = roles
            while remaining != 0 {
                let role = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                let candidate = party(role, instance)
                if !parties.contains(where: { $0.0 == candidate.0 && $0.1 == candidate.1 }) { parties.append(candidate) }
            }
            return parties
        }
    }

    /// Whose turn it is: the roles of the first row of the turn table for the instance's (state of the
    /// first machine, state of the second) whose condition holds on the current store (0: no row).
    /// An alias is named as itself (hotplug, not backend) unless the role it stands for shares the row.
    func turnRoles(_ instance: Instance) -> UInt32 {
        guard let index = turnRow(instance) else { return 0 }
        let compiled = instance.protocolDefinition
        let turn = compiled.definition.turns[index]
        var roles: UInt32 = 0
        for role in compiled.canonical.indices where role < 32 && turn.roles.contains(role) {
            let target = compiled.canonical[role]
            roles |= 1 << UInt32(target != role && turn.roles.contains(target) ? target : role)
        }
        return roles
    }

    /// The index of the turn table's row that decides whose turn it is now: the first for the
    /// instance's (state of the first machine, state of the second) whose condition holds.
    func turnRow(_ instance: Instance) -> Int? {
        let compiled = instance.protocolDefinition
        let machines = compiled.definition.machines
        guard machines.count >= 2, machines[0].directory < instance.states.count, machines[1].directory < instance.states.count else {
            return nil
        }
        let frontend = instance.states[machines[0].directory]
        let backend = instance.states[machines[1].directory]
        for (index, turn) in compiled.definition.turns.enumerated() where turn.frontendState == frontend && turn.backendState == backend {
            if index < compiled.turnConditions.count, let condition = compiled.turnConditions[index], !holds(condition, instance) {
                continue
            }
            return index
        }
        return nil
    }

    /// Why `blame turn` blamed whom it did, for the report: the global state and the condition of
    /// the row that decided (`the turn in (Initialised, InitWait) when present(be/physical-device)`).
    func turnReason(_ instance: Instance) -> String? {
        guard let index = turnRow(instance) else { return nil }
        let definition = instance.protocolDefinition.definition
        let turn = definition.turns[index]
        let state = "(\(definition.stateName(turn.frontendState)), \(definition.stateName(turn.backendState)))"
        return turn.condition.map { "the turn in \(state) when \($0.text)" } ?? "the turn in \(state)"
    }

    func party(_ role: Int, _ instance: Instance) -> (Int, String) {
        let compiled = instance.protocolDefinition
        guard role >= 0, role < compiled.definition.roles.count else { return (-1, "other") }
        let domid = instance.domid(of: role) ?? -1
        let held = domid >= 0 ? instance.roles(domid: domid, privileged: domid == 0) : 0
        if held.nonzeroBitCount > 1 { return (domid, label(held, domid: domid, instance: instance)) }
        return (domid, compiled.definition.roles[role].name)
    }

    func report(
        _ instance: Instance?, _ severity: Finding.Severity, line: Int, time: Int64? = nil, domid: Int, role: String,
        protocolName: String? = nil, instance instanceName: String? = nil, rule: String, origin: Origin, message: String,
        path: String? = nil, detectedLine: Int? = nil, deduplicate: Bool = true, deduplicationKey: String? = nil
    ) {
        let finding = Finding(
            severity: severity, line: line, time: time ?? currentTime, domid: domid, role: role,
            protocolName: protocolName ?? instance?.protocolDefinition.definition.name ?? "",
            instance: instanceName ?? instance?.name ?? "",
            rule: rule, origin: origin.description, message: message, path: path, detectedLine: detectedLine)
        let sequence = findingSequence
        if let instance, deduplicate {
            let key = deduplicationKey ?? "\(rule)|\(role)|\(path ?? "")"
            if let existing = instance.reported[key] {
                switch options.findingRetention {
                case .all: findings[existing].repeats += 1
                case .live: retainedFindings[existing]?.repeats += 1
                }
                return
            }
            if options.findingRetention == .live && instance.reported.count >= options.maximumFindingsPerInstance {
                findingsBeyondInstanceLimit += 1
            } else {
                instance.reported[key] = sequence
                if options.findingRetention == .live { retainedFindings[sequence] = finding }
            }
        }
        findingSequence += 1
        if severity == .violation { violationCount += 1 } else { otherFindingCount += 1 }
        if options.findingRetention == .all { findings.append(finding) }
        findingHandler?(finding)
    }
}
