import ProtocolModel

/// Graphviz DOT of a protocol's state machines (one cluster per machine, edges labelled with the
/// roles that take them and their guards) and of the turn table, for documentation.
public enum GraphvizRenderer {
    /// The DOT text for one protocol.
    public static func render(_ definition: ProtocolDefinition, guards: [[String?]] = []) -> String {
        var out = "digraph \"\(escape(definition.name))\" {\n"
        out += "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n"
        for (machineIndex, machine) in definition.machines.enumerated() {
            let directory = definition.directories[machine.directory].name
            let texts = machineIndex < guards.count ? guards[machineIndex] : []
            out += cluster(definition, machine, name: directory, label: "\(directory).state", guards: texts)
        }
        // Key machines (pci's be/state-{n}): one cluster each, drawn once for every entry of the family.
        for machine in definition.keyMachines {
            let name = "\(definition.directories[machine.directory].name)/\(definition.keys[machine.key].pattern)"
            out += cluster(definition, machine, name: name, label: "\(name) (each entry)", guards: [])
        }
        if !definition.turns.isEmpty, definition.machines.count == 2 {
            var rows = "<TR><TD><B>\(htmlEscape(definition.directories[definition.machines[0].directory].name))</B></TD>"
            rows += "<TD><B>\(htmlEscape(definition.directories[definition.machines[1].directory].name))</B></TD>"
            // Only tables with conditional rows get the column; the first row whose condition holds decides.
            let conditional = definition.turns.contains { $0.condition != nil }
            if conditional { rows += "<TD><B>when</B></TD>" }
            rows += "<TD><B>turn</B></TD></TR>"
            var previous: (Int, Int)? = nil
            for turn in definition.turns {
                rows +=
                    "<TR><TD>\(htmlEscape(definition.stateName(turn.frontendState)))</TD><TD>\(htmlEscape(definition.stateName(turn.backendState)))</TD>"
                if conditional {
                    let sameState = previous.map { $0 == (turn.frontendState, turn.backendState) } ?? false
                    rows += "<TD>\(htmlEscape(turn.condition?.text ?? (sameState ? "otherwise" : "")))</TD>"
                }
                previous = (turn.frontendState, turn.backendState)
                rows += "<TD>\(htmlEscape(definition.roleNames(turn.roles).joined(separator: ", ")))</TD></TR>"
            }
            out += "  turns [shape=plaintext, label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\">\(rows)</TABLE>>];\n"
        }
        out += "}\n"
        return out
    }

    /// One machine as a cluster; `guards` are the guard texts by transition, where known.
    private static func cluster(
        _ definition: ProtocolDefinition, _ machine: Machine, name: String, label: String, guards: [String?]
    ) -> String {
        var out = "  subgraph \"cluster_\(escape(name))\" {\n    label=\"\(escape(label))\";\n"
        let initial = definition.keys[machine.key].initialValue.flatMap { Int($0) }
        var used: Set<Int> = initial.map { [$0] } ?? []
        for transition in machine.transitions {
            used.insert(transition.to)
            for state in definition.states where transition.from.contains(state.value) && transition.from != .all {
                used.insert(state.value)
            }
        }
        for state in definition.states where used.contains(state.value) {
            let shape = state.value == initial ? ", penwidth=2" : ""
            out += "    \"\(node(name, state.name))\" [label=\"\(escape(state.name))\"\(shape)];\n"
        }
        for (transitionIndex, transition) in machine.transitions.enumerated() {
            var label = definition.roleNames(transition.by).joined(separator: " | ")
            if transitionIndex < guards.count, let guardText = guards[transitionIndex] {
                label += "\\nwhen \(escape(guardText))"
            } else if transition.guardProgram != nil {
                label += "\\nwhen ..."
            }
            if transition.obligation != nil { label += "\\nrequires ..." }
            let target = node(name, definition.stateName(transition.to))
            if transition.from == .all {
                out += "    \"\(node(name, "*"))\" [label=\"*\", shape=plaintext];\n"
                out += "    \"\(node(name, "*"))\" -> \"\(target)\" [label=\"\(label)\", style=dashed];\n"
                continue
            }
            for state in definition.states where transition.from.contains(state.value) {
                out += "    \"\(node(name, state.name))\" -> \"\(target)\" [label=\"\(label)\"];\n"
            }
        }
        return out + "  }\n"
    }

    private static func node(_ directory: String, _ state: String) -> String { "\(escape(directory)).\(escape(state))" }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    private static func htmlEscape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
