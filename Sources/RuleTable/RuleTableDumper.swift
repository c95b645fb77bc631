import PolicyDiagnostics
import ProtocolModel

/// Renders a decoded rule table for people (`text`) and programs (`json`): header, sections,
/// each protocol's rows with names instead of indices, and programs as disassembled bytecode.
public struct RuleTableDumper {
    public var file: String
    public var layout: RuleTableLayout
    public var table: CompiledRuleTable

    public init(file: String, layout: RuleTableLayout, table: CompiledRuleTable) {
        self.file = file
        self.layout = layout
        self.table = table
    }

    // MARK: - Text

    /// The text report.
    public func text() -> String {
        var out = "\(file): xenstore rule table, format version \(layout.version)\n"
        out += "  length    \(layout.length) bytes\n"
        out +=
            "  flags     0x\(hex(UInt32(layout.flags), digits: 4))\(layout.flags & RuleTableFormat.Flag.admission != 0 ? " (admission)" : "")\n"
        out += "  checksum  0x\(hex(layout.checksum, digits: 8))\n"
        if let policy = table.policyName { out += "  policy    \(policy)\n" }
        out += "  sections  \(layout.sections.count)\n"
        out += "    id  name          offset    length\n"
        for section in layout.sections {
            out += "    \(pad(String(section.id), 2, right: true))  \(pad(section.name ?? "(unknown)", 12))"
            out += "\(pad(String(section.offset), 8, right: true))  \(pad(String(section.length), 8, right: true))\n"
        }
        for definition in table.protocols { out += "\n" + protocolText(definition) }
        out += "\npath index: \(table.pathIndex.nodes.count) nodes\n"
        for (path, entry) in terminals() {
            out += "  \(path)  -> \(protocolName(entry.protocolIndex)).\(directoryName(entry.protocolIndex, entry.directory))\n"
        }
        if table.hasAdmissionSection {
            out += "\nadmission\(table.policyName.map { " (policy \($0))" } ?? "")\n"
            for admission in table.admissions {
                guard admission.protocolIndex >= 0, admission.protocolIndex < table.protocols.count else { continue }
                let definition = table.protocols[admission.protocolIndex]
                out +=
                    "  \(definition.name): \(roleName(definition, admission.frontendRole)) label -> \(roleName(definition, admission.backendRole)) label"
                if !admission.origins.isEmpty { out += "  (\(admission.origins.map(\.description).joined(separator: ", ")))" }
                out += "\n"
                if admission.pairs.isEmpty { out += "    (no pair may bind)\n" }
                for pair in admission.pairs { out += "    \(quote(pair.frontend)) -> \(quote(pair.backend))\n" }
            }
        }
        return out
    }

    private func protocolText(_ definition: ProtocolDefinition) -> String {
        var out = "protocol \(definition.name) (\(definition.origin))\n"
        out += "  parameters    \(definition.parameters.joined(separator: ", "))\n"
        out += "  unknown keys  \(definition.unknownKeys.rawValue)\n"
        out += "  roles\n"
        for (index, role) in definition.roles.enumerated() {
            out += "    \(index) \(pad(role.name, 12)) \(principal(role, definition))\n"
        }
        out += "  states        " + definition.states.map { "\($0.name)=\($0.value)" }.joined(separator: " ") + "\n"
        if !definition.labels.isEmpty {
            out += "  labels\n"
            for binding in definition.labels {
                out += "    \(roleName(definition, binding.role)): \(binding.labels.map(quote).joined(separator: " | "))"
                out += binding.origins.first.map { "  (\($0))" } ?? ""
                out += "\n"
            }
        }
        out += "  directories\n"
        for (index, directory) in definition.directories.enumerated() {
            out += "    \(index) \(directory.name) = \(template(directory, definition))  owner \(roleName(definition, directory.owner))"
            if !directory.readers.isEmpty {
                out += ", readers \(directory.readers.map { roleName(definition, $0) }.joined(separator: " | "))"
            }
            out += "  (\(directory.origin))\n"
        }
        out += "  keys\n"
        for (index, key) in definition.keys.enumerated() {
            out += "    \(index) \(keyName(key.pattern, definition, slots: false))  \(typeText(key.type))"
            if key.isState { out += "  state key" }
            if key.initializers != .empty {
                out += "  init \(roles(key.initializers, definition))\(key.initialValue.map { " = \(quote($0))" } ?? "")"
            }
            out += "  writers \(roles(key.writers, definition))"
            out += "  phase \(key.phase.map { states($0, definition) } ?? "any")"
            if let value = key.defaultValue { out += "  default \(quote(value))" }
            if key.deprecated { out += "  deprecated" }
            if let link = key.link { out += "  link \(directoryName(definition, link))" }
            out += "  (\(key.origin))\n"
            for variable in key.indices {
                out += "        for \(variable.name) (slot \(variable.slot)) lower:\n"
                out += disassembly(variable.lower, definition, indent: 10)
                out += "        for \(variable.name) (slot \(variable.slot)) upper:\n"
                out += disassembly(variable.upper, definition, indent: 10)
            }
            if let condition = key.condition {
                out += "        condition:\n" + disassembly(condition, definition, indent: 10)
            }
        }
        out += "  machines\n"
        for machine in definition.machines {
            out += "    \(directoryName(definition, machine.directory)).state (key \(machine.key))  (\(machine.origin))\n"
            out += transitionsText(machine, definition)
        }
        if !definition.keyMachines.isEmpty {
            out += "  key machines\n"
            for machine in definition.keyMachines {
                let key = definition.keys.indices.contains(machine.key) ? definition.keys[machine.key].pattern.description : "?"
                out += "    \(directoryName(definition, machine.directory))/\(key) (key \(machine.key))  (\(machine.origin))\n"
                out += transitionsText(machine, definition)
            }
        }
        out += "  guarantees\n"
        for guarantee in definition.guarantees {
            switch guarantee.kind {
            case .never(let roleMask, let operations, let paths, let unless):
                out += "    \(guarantee.name): never \(roles(roleMask, definition)) \(operationNames(operations).joined(separator: " | "))"
                out += " on \(paths.map { glob($0, definition) }.joined(separator: ", "))  blame \(blameText(guarantee.blame, definition))"
                out += "  (\(guarantee.origin))\n"
                if let unless { out += "        unless:\n" + disassembly(unless, definition, indent: 10) }
            case .always(let condition):
                out += "    \(guarantee.name): always  blame \(blameText(guarantee.blame, definition))  (\(guarantee.origin))\n"
                out += "        condition:\n" + disassembly(condition, definition, indent: 10)
            }
        }
        out += "  expectations\n"
        for expectation in definition.expectations {
            out +=
                "    \(quote(expectation.summary)) within \(expectation.milliseconds) ms  blame \(blameText(expectation.blame, definition))"
            out += "  (\(expectation.origin))\n"
            out += "        trigger:\n" + disassembly(expectation.trigger, definition, indent: 10)
            out += "        condition:\n" + disassembly(expectation.condition, definition, indent: 10)
        }
        out += "  turns (frontend state, backend state [if condition]: whose turn; the first row that holds decides)\n"
        for turn in definition.turns {
            out += "    (\(definition.stateName(turn.frontendState)), \(definition.stateName(turn.backendState)))"
            if let condition = turn.condition { out += " if \(condition.text)" }
            out += ": \(roles(turn.roles, definition))\n"
            if let condition = turn.condition { out += "        condition:\n" + disassembly(condition.program, definition, indent: 10) }
        }
        return out
    }

    private func transitionsText(_ machine: Machine, _ definition: ProtocolDefinition) -> String {
        var out = ""
        for transition in machine.transitions {
            out +=
                "      \(states(transition.from, definition)) -> \(definition.stateName(transition.to)) by \(roles(transition.by, definition))"
            out += "  (\(transition.origin))\n"
            if let note = transition.note { out += "        note \(quote(note))\n" }
            if let guardProgram = transition.guardProgram {
                out += "        guard:\n" + disassembly(guardProgram, definition, indent: 10)
            }
            if let obligation = transition.obligation {
                out += "        obligation:\n" + disassembly(obligation, definition, indent: 10)
            }
        }
        return out
    }

    private func disassembly(_ program: Program, _ definition: ProtocolDefinition, indent: Int) -> String {
        let prefix = String(repeating: " ", count: indent)
        var out = ""
        if program.localCount > 0 { out += "\(prefix); \(program.localCount) local slot(s)\n" }
        for line in Self.disassemble(program, definition) { out += prefix + line + "\n" }
        return out
    }

    /// One line per instruction: index, mnemonic and operands by name.
    public static func disassemble(_ program: Program, _ definition: ProtocolDefinition) -> [String] {
        let dumper = RuleTableDumper(
            file: "", layout: RuleTableLayout(version: 0, flags: 0, length: 0, checksum: 0, sections: []),
            table: CompiledRuleTable(protocols: []))
        let width = String(max(0, program.instructions.count - 1)).count
        return program.instructions.enumerated().map { index, instruction in
            dumper.pad(String(index), width, right: true) + "  " + dumper.instructionText(instruction, definition)
        }
    }

    func instructionText(_ instruction: Instruction, _ definition: ProtocolDefinition) -> String {
        switch instruction {
        case .boolean(let value): return "push \(value)"
        case .integer(let value): return "push \(value)"
        case .string(let value): return "push \(quote(value))"
        case .parameter(let index):
            return "param \(index >= 0 && index < definition.parameters.count ? definition.parameters[index] : "#\(index)")"
        case .value(let pattern): return "value \(keyName(pattern, definition, slots: true))"
        case .present(let pattern): return "present \(keyName(pattern, definition, slots: true))"
        case .number(let pattern, let hasDefault):
            return "\(hasDefault ? "number.default" : "number") \(keyName(pattern, definition, slots: true))"
        case .state(let directory): return "state \(directoryName(definition, directory))"
        case .seen(let directory, let state): return "seen \(directoryName(definition, directory)) \(definition.stateName(state))"
        case .makeSet(let count): return "set \(count)"
        case .member: return "member"
        case .inRange: return "in.range"
        case .binary(let operation): return Self.mnemonics[Int(operation.rawValue)]
        case .not: return "not"
        case .powerOfTwo: return "pow2"
        case .store(let slot): return "store \(slot)"
        case .load(let slot): return "load \(slot)"
        case .jump(let target): return "jump \(target)"
        case .jumpIfFalse(let target): return "jump.false \(target)"
        case .pop: return "pop"
        }
    }

    static let mnemonics = ["eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "rem", "shl"]

    // MARK: - JSON

    /// The JSON report.
    public func json(diagnostics: [Diagnostic]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("file", .string(file)),
            ("format", "xsrt"),
            ("version", .int(Int(layout.version))),
            ("length", .int(layout.length)),
            ("flags", .int(Int(layout.flags))),
            ("checksum", .string("0x" + hex(layout.checksum, digits: 8))),
        ]
        if let policy = table.policyName { members.append(("policy_name", .string(policy))) }
        members.append(
            (
                "sections",
                .array(
                    layout.sections.map {
                        .object([
                            ("id", .int(Int($0.id))), ("name", $0.name.map { .string($0) } ?? .null), ("offset", .int($0.offset)),
                            ("length", .int($0.length)),
                        ])
                    })
            ))
        members.append(("protocols", .array(table.protocols.map(protocolJSON))))
        members.append(
            (
                "path_index",
                .object([
                    ("nodes", .int(table.pathIndex.nodes.count)),
                    (
                        "directories",
                        .array(
                            terminals().map { path, entry in
                                .object([
                                    ("path", .string(path)), ("protocol", .string(protocolName(entry.protocolIndex))),
                                    ("directory", .string(directoryName(entry.protocolIndex, entry.directory))),
                                ])
                            })
                    ),
                ])
            ))
        if table.hasAdmissionSection {
            members.append(
                (
                    "admission",
                    .array(
                        table.admissions.filter { $0.protocolIndex >= 0 && $0.protocolIndex < table.protocols.count }.map { admission in
                            let definition = table.protocols[admission.protocolIndex]
                            return .object([
                                ("protocol", .string(definition.name)),
                                ("frontend_role", .string(roleName(definition, admission.frontendRole))),
                                ("backend_role", .string(roleName(definition, admission.backendRole))),
                                ("pairs", .array(admission.pairs.map { .array([.string($0.frontend), .string($0.backend)]) })),
                                ("origins", .array(admission.origins.map { .string($0.description) })),
                            ])
                        })
                ))
        }
        members.append(
            ("diagnostics", .array(diagnostics.map { .string("\($0.location): \($0.severity.rawValue): \($0.message) [\($0.code)]") })))
        return .object(members)
    }

    private func protocolJSON(_ definition: ProtocolDefinition) -> JSONValue {
        func code(_ program: Program) -> JSONValue {
            .object([
                ("locals", .int(program.localCount)),
                ("code", .array(program.instructions.map { .string(instructionText($0, definition)) })),
            ])
        }
        func roleList(_ mask: RoleMask) -> JSONValue { .array(definition.roleNames(mask).map { .string($0) }) }
        func stateList(_ mask: StateMask) -> JSONValue {
            mask == .all ? "*" : .array(definition.states.filter { mask.contains($0.value) }.map { .string($0.name) })
        }
        var members: [(String, JSONValue)] = [
            ("name", .string(definition.name)),
            ("origin", .string(definition.origin.description)),
            ("parameters", .array(definition.parameters.map { .string($0) })),
            ("unknown_keys", .string(definition.unknownKeys.rawValue)),
            (
                "roles",
                .array(
                    definition.roles.map { role in
                        var fields: [(String, JSONValue)] = [
                            ("name", .string(role.name)), ("principal", .string(principal(role, definition))),
                        ]
                        if let alias = role.aliasOf { fields.append(("alias_of", .string(roleName(definition, alias)))) }
                        return .object(fields)
                    })
            ),
            ("states", .array(definition.states.map { .object([("name", .string($0.name)), ("value", .int($0.value))]) })),
            (
                "labels",
                .array(
                    definition.labels.map {
                        .object([
                            ("role", .string(roleName(definition, $0.role))), ("labels", .array($0.labels.map { .string($0) })),
                            ("origins", .array($0.origins.map { .string($0.description) })),
                        ])
                    })
            ),
            (
                "directories",
                .array(
                    definition.directories.map { directory in
                        .object([
                            ("name", .string(directory.name)), ("template", .string(template(directory, definition))),
                            ("owner", .string(roleName(definition, directory.owner))),
                            ("readers", .array(directory.readers.map { .string(roleName(definition, $0)) })),
                            ("origin", .string(directory.origin.description)),
                        ])
                    })
            ),
        ]
        members.append(
            (
                "keys",
                .array(
                    definition.keys.map { key in
                        var fields: [(String, JSONValue)] = [
                            ("pattern", .string(keyName(key.pattern, definition, slots: false))),
                            ("state", .bool(key.isState)),
                            ("type", .string(typeText(key.type))),
                            ("initialisers", roleList(key.initializers)),
                        ]
                        if let value = key.initialValue { fields.append(("initial_value", .string(value))) }
                        fields.append(("writers", roleList(key.writers)))
                        fields.append(("phase", key.phase.map(stateList) ?? .null))
                        if !key.indices.isEmpty {
                            fields.append(
                                (
                                    "indices",
                                    .array(
                                        key.indices.map {
                                            .object([
                                                ("name", .string($0.name)), ("slot", .int($0.slot)), ("lower", code($0.lower)),
                                                ("upper", code($0.upper)),
                                            ])
                                        })
                                ))
                        }
                        if let condition = key.condition { fields.append(("condition", code(condition))) }
                        if let value = key.defaultValue { fields.append(("default", .string(value))) }
                        fields.append(("deprecated", .bool(key.deprecated)))
                        if let link = key.link { fields.append(("link", .string(directoryName(definition, link)))) }
                        fields.append(("origin", .string(key.origin.description)))
                        return .object(fields)
                    })
            ))
        func machineJSON(_ machine: Machine) -> JSONValue {
            .object([
                ("directory", .string(directoryName(definition, machine.directory))),
                ("key", .int(machine.key)),
                ("origin", .string(machine.origin.description)),
                (
                    "transitions",
                    .array(
                        machine.transitions.map { transition in
                            var fields: [(String, JSONValue)] = [
                                ("from", stateList(transition.from)),
                                ("to", .string(definition.stateName(transition.to))),
                                ("by", roleList(transition.by)),
                            ]
                            if let guardProgram = transition.guardProgram { fields.append(("guard", code(guardProgram))) }
                            if let obligation = transition.obligation { fields.append(("obligation", code(obligation))) }
                            if let note = transition.note { fields.append(("note", .string(note))) }
                            fields.append(("origin", .string(transition.origin.description)))
                            return .object(fields)
                        })
                ),
            ])
        }
        members.append(("machines", .array(definition.machines.map(machineJSON))))
        members.append(("key_machines", .array(definition.keyMachines.map(machineJSON))))
        members.append(
            (
                "guarantees",
                .array(
                    definition.guarantees.map { guarantee in
                        var fields: [(String, JSONValue)] = [("name", .string(guarantee.name))]
                        switch guarantee.kind {
                        case .never(let roles, let operations, let paths, let unless):
                            fields.append(("kind", "never"))
                            fields.append(("roles", roleList(roles)))
                            fields.append(("operations", .array(operationNames(operations).map { .string($0) })))
                            fields.append(("paths", .array(paths.map { .string(glob($0, definition)) })))
                            if let unless { fields.append(("unless", code(unless))) }
                        case .always(let condition):
                            fields.append(("kind", "always"))
                            fields.append(("condition", code(condition)))
                        }
                        fields.append(("blame", .string(blameText(guarantee.blame, definition))))
                        fields.append(("origin", .string(guarantee.origin.description)))
                        return .object(fields)
                    })
            ))
        members.append(
            (
                "expectations",
                .array(
                    definition.expectations.map { expectation in
                        .object([
                            ("summary", .string(expectation.summary)),
                            ("within_ms", .int(expectation.milliseconds)),
                            ("blame", .string(blameText(expectation.blame, definition))),
                            ("trigger", code(expectation.trigger)),
                            ("condition", code(expectation.condition)),
                            ("origin", .string(expectation.origin.description)),
                        ])
                    })
            ))
        members.append(
            (
                "turns",
                .array(
                    definition.turns.map { turn in
                        var fields: [(String, JSONValue)] = [
                            ("frontend", .string(definition.stateName(turn.frontendState))),
                            ("backend", .string(definition.stateName(turn.backendState))),
                        ]
                        if let condition = turn.condition {
                            fields.append(("condition", .string(condition.text)))
                            fields.append(("condition_code", code(condition.program)))
                        }
                        fields.append(("roles", roleList(turn.roles)))
                        return .object(fields)
                    })
            ))
        return .object(members)
    }

    // MARK: - Names

    private func protocolName(_ index: Int) -> String {
        index >= 0 && index < table.protocols.count ? table.protocols[index].name : "#\(index)"
    }

    private func directoryName(_ protocolIndex: Int, _ directory: Int) -> String {
        protocolIndex >= 0 && protocolIndex < table.protocols.count
            ? directoryName(table.protocols[protocolIndex], directory) : "#\(directory)"
    }

    func directoryName(_ definition: ProtocolDefinition, _ index: Int) -> String {
        index >= 0 && index < definition.directories.count ? definition.directories[index].name : "#\(index)"
    }

    private func roleName(_ definition: ProtocolDefinition, _ index: Int) -> String {
        index >= 0 && index < definition.roles.count ? definition.roles[index].name : "#\(index)"
    }

    private func roles(_ mask: RoleMask, _ definition: ProtocolDefinition) -> String {
        mask.isEmpty ? "nobody" : definition.roleNames(mask).joined(separator: " | ")
    }

    private func states(_ mask: StateMask, _ definition: ProtocolDefinition) -> String {
        guard mask != .all else { return "*" }
        return "{" + definition.states.filter { mask.contains($0.value) }.map(\.name).joined(separator: ", ") + "}"
    }

    private func principal(_ role: Role, _ definition: ProtocolDefinition) -> String {
        if let alias = role.aliasOf { return "= \(roleName(definition, alias))" }
        switch role.principal {
        case .privileged: return "privileged"
        case .parameter(let index):
            return "domain(\(index < definition.parameters.count ? definition.parameters[index] : "#\(index)"))"
        }
    }

    private func template(_ directory: Directory, _ definition: ProtocolDefinition) -> String {
        "/"
            + directory.segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter(let index): "{\(index < definition.parameters.count ? definition.parameters[index] : "#\(index)")}"
                case .alternatives(let names): "{\(names.joined(separator: "|"))}"
                }
            }.joined(separator: "/")
    }

    func keyName(_ pattern: KeyPattern, _ definition: ProtocolDefinition, slots: Bool) -> String {
        let path = pattern.segments.map { parts in
            parts.map { part in
                switch part {
                case .literal(let text): text
                case .index(let slot, let name): slots ? "{\(name)@\(slot)}" : "{\(name)}"
                }
            }.joined()
        }
        return ([directoryName(definition, pattern.directory)] + path).joined(separator: "/")
    }

    private func glob(_ glob: PathGlob, _ definition: ProtocolDefinition) -> String {
        let parts = glob.segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .any: "*"
            case .anyDepth: "**"
            }
        }
        return ([directoryName(definition, glob.directory)] + parts).joined(separator: "/")
    }

    private func typeText(_ type: ValueType) -> String {
        switch type {
        case .unsigned(let lower, let upper): "uint [\(lower) .. \(upper))"
        case .string(nil): "string"
        case .string(let pattern?): "string ~ \(quote(pattern))"
        case .literals(let values): values.map(quote).joined(separator: " | ")
        case .state: "state"
        }
    }

    private func blameText(_ blame: Blame, _ definition: ProtocolDefinition) -> String {
        switch blame {
        case .writer: "writer"
        case .turn: "turn"
        case .role(let index): roleName(definition, index)
        }
    }

    private func operationNames(_ operations: OperationMask) -> [String] {
        let names: [(OperationMask, String)] = [
            (.read, "read"), (.write, "write"), (.mkdir, "mkdir"), (.rm, "rm"), (.setPermissions, "setperms"), (.watch, "watch"),
        ]
        return names.filter { operations.contains($0.0) }.map(\.1)
    }

    /// The path of every node where templates end (`{#}` for a number edge), in node order.
    private func terminals() -> [(String, PathIndex.Entry)] {
        let nodes = table.pathIndex.nodes
        var paths = [String](repeating: "", count: nodes.count)
        var result: [(String, PathIndex.Entry)] = []
        for (index, node) in nodes.enumerated() {
            for entry in node.entries { result.append((index == 0 ? "/" : paths[index], entry)) }
            for edge in node.literals where edge.child > index && edge.child < nodes.count {
                paths[edge.child] = paths[index] + "/" + edge.label
            }
            if let child = node.number, child > index, child < nodes.count { paths[child] = paths[index] + "/{#}" }
        }
        return result
    }

    // MARK: - Formatting

    func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }

    private func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
