import ArgumentParser
import PolicyDiagnostics
import PolicyTools
import XenPolicyKit

/// Report formats of `inspect`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `xen-policy inspect`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a hypervisor policy blob or a xenstore rule table, check it, and show its contents.",
        discussion: """
            The format (Xen 3.0.2 ... 4.1) is detected from the header. Every check the hypervisor of that \
            release made on load is made, plus bounds and overflow checks it lacked. Label and type names \
            come from the label map (--map) or from the policy XML (--policy, compiled for the blob's target; \
            a note then says whether the blob is exactly what that policy compiles to).
            A xenstore rule table (.xsrt, written by 'xen-policyc compile --rules') is recognised by its magic \
            'XSRT'; it is validated (docs/rule-table.md) and dumped: header, sections, and each protocol's \
            directories, keys, machines with disassembled guards, guarantees, expectations and turn table.
            """
    )

    @Argument(help: "The binary policy blob, or a rule table (.xsrt).")
    var blob: String

    @Option(help: "The label-mapping file written with the blob.")
    var map: String?

    @Option(help: "The policy XML the blob was compiled from.")
    var policy: String?

    @Option(help: "Report format: text or json (json also carries the diagnostics).")
    var format: ReportFormat = .text

    @Option(help: "Colour text diagnostics: auto, always or never.")
    var color: ColorMode = .auto

    func validate() throws {
        if map != nil && policy != nil { throw ValidationError("give either --map or --policy, not both") }
    }

    func run() throws {
        if let table = RuleTablePipeline().loadIfRuleTable(path: blob) { return try inspectRuleTable(table) }
        let loaded = BlobPipelines().load(blobPath: blob, mapPath: map, policyPath: policy)
        var printer = DiagnosticPrinter(format: .text, color: color)
        if let header = loaded.header, let decoded = loaded.policy {
            let inspector = BlobInspector(file: blob, header: header, policy: decoded, map: loaded.map)
            switch format {
            case .text:
                Output.standardOutput(inspector.text())
                printer.emit(loaded.diagnostics, sources: loaded.sources, tool: "xen-policy")
            case .json:
                Output.standardOutput(inspector.json(diagnostics: loaded.diagnostics).rendered())
            }
        } else {
            printer.format = format == .json ? .json : .text
            printer.emit(loaded.diagnostics, sources: loaded.sources, tool: "xen-policy")
        }
        if loaded.status != .success { throw Exit(status: loaded.status) }
    }
}
