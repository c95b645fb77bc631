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
            out += "  subgraph \"cluster_\(escape(directory))\" {\n    label=\"\(escape(directory)).state\";\n"
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
                out += "    \"\(node(directory, state.name))\" [label=\"\(escape(state.name))\"\(shape)];\n"
            }
            for (transitionIndex, transition) in machine.transitions.enumerated() {
                var label = definition.roleNames(transition.by).joined(separator: " | ")
                if machineIndex < guards.count, transitionIndex < guards[machineIndex].count,
                    let guardText = guards[machineIndex][transitionIndex]
                {
                    label += "\\nwhen \(escape(guardText))"
                }
                if transition.obligation != nil { label += "\\nrequires ..." }
                let target = node(directory, definition.stateName(transition.to))
                if transition.from == .all {
                    out += "    \"\(node(directory, "*"))\" [label=\"*\", shape=plaintext];\n"
                    out += "    \"\(node(directory, "*"))\" -> \"\(target)\" [label=\"\(label)\", style=dashed];\n"
                    continue
                }
                for state in definition.states where transition.from.contains(state.value) {
                    out += "    \"\(node(directory, state.name))\" -> \"\(target)\" [label=\"\(label)\"];\n"
                }
            }
            out += "  }\n"
        }
        if !definition.turns.isEmpty, definition.machines.count == 2 {
            var rows = "<TR><TD><B>\(htmlEscape(definition.directories[definition.machines[0].directory].name))</B></TD>"
            rows += "<TD><B>\(htmlEscape(definition.directories[definition.machines[1].directory].name))</B></TD><TD><B>turn</B></TD></TR>"
            for turn in definition.turns {
                rows +=
                    "<TR><TD>\(htmlEscape(definition.stateName(turn.frontendState)))</TD><TD>\(htmlEscape(definition.stateName(turn.backendState)))</TD>"
                rows += "<TD>\(htmlEscape(definition.roleNames(turn.roles).joined(separator: ", ")))</TD></TR>"
            }
            out += "  turns [shape=plaintext, label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\">\(rows)</TABLE>>];\n"
        }
        out += "}\n"
        return out
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
