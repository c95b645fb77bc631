import ArgumentParser
import XenPolicyKit

/// `xen-policy graph`.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print Graphviz DOT of protocol state machines and their turn table.",
        discussion: "Render with e.g. `xen-policy graph Examples/protocols/vbd.xpd | dot -Tsvg > vbd.svg`."
    )

    @Argument(help: "Protocol description files (.xpd).")
    var protocols: [String]

    @Option(name: .customShort("I"), help: "A directory to search for imported libraries.")
    var searchPaths: [String] = []

    @OptionGroup var diagnostics: DiagnosticOptions

    func run() throws {
        let (dot, checked) = ProtocolPipeline(searchPaths: searchPaths).graph(protocols)
        diagnostics.emit(checked.diagnostics, sources: checked.sources, tool: "xen-policy")
        if checked.status != .success { throw Exit(status: checked.status) }
        Output.standardOutput(dot)
    }
}
