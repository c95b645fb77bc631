import ArgumentParser
import PolicyDiagnostics
import PolicyDiff
import PolicyModel
import XenPolicyKit

/// Report formats of `diff`.
enum DiffFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}

/// When `diff` exits with status 1.
enum DiffFailOn: String, ExpressibleByArgument, CaseIterable {
    /// Access widens: share, resource or run gained, or a Chinese Wall block lost; or a protocol widens.
    case widened
    /// Anything changed.
    case any
}

/// `xen-policy diff`.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what a policy change does: structural changes by name, ssidrefs, and gained or lost access.",
        discussion: """
            OLD and NEW are policy XML of any Xen release (a Xen 3.0.2 policy finds its label template \
            STEM-security_label_template.xml beside it, or write POLICY+LABELS), or blobs with their .map \
            beside them. REV:PATH reads PATH at a git revision (git show REV:PATH), unless a file of that \
            name exists: `xen-policy diff HEAD~1:policy.xml policy.xml`. OLD and NEW may instead both be \
            protocol descriptions (.xpd) or compiled rule tables (.xsrt), in any mix: protocols, keys, \
            directories, roles, transitions, guarantees, \
            expectations, options and labels are compared by name, and widenings (a role may write more, \
            a new transition, a guarantee removed or weakened, an expectation removed or slower, \
            unknown_keys relaxed) are reported. A policy and a protocol description cannot be compared.

            Elements are matched by name, never by position; a reordered or reformatted policy shows no \
            change. Effects: share (VM label pairs with a common STE type), resource (VM label, resource \
            label) pairs with a common STE type, block (a running domain labelled a keeps one labelled b \
            from starting), run (labels authorised to run, Xen 3.2+), each gained and lost, with OLD's \
            names mapped through NEW's from= renames. See docs/diff.md.

            Exit status: 0, or 1 with --fail-on widened when access (or a protocol) widens and with --fail-on any when \
            anything changed; 2 when an input cannot be read or has errors, or on wrong usage.
            """
    )

    @Argument(help: "The old policy, protocol description or rule table: PATH, REV:PATH, or POLICY+LABELS (Xen 3.0.2).")
    var old: String

    @Argument(help: "The new policy, protocol description or rule table: PATH, REV:PATH, or POLICY+LABELS (Xen 3.0.2).")
    var new: String

    @Option(help: "Target whose numbering and rules apply (default: the newer input's generation).")
    var target: Target?

    @Option(help: "Report format: text, json or markdown (for a pull-request comment).")
    var format: DiffFormat = .text

    @Option(name: .customLong("fail-on"), help: "Exit 1 when access widens (widened) or anything changed (any).")
    var failOn: DiffFailOn?

    @Option(help: "Colour text diagnostics: auto, always or never.")
    var color: ColorMode = .auto

    func run() throws {
        let outcome = DiffPipeline().run(DiffPipeline.Request(old: old, new: new, target: target))
        let printer = DiagnosticPrinter(format: .text, color: color)
        guard let report = outcome.report else {
            // Input errors and I/O errors alike end with 2: 1 is the answer to --fail-on.
            DiagnosticPrinter(format: format == .json ? .json : .text, color: color)
                .emit(outcome.diagnostics, sources: outcome.sources, tool: "xen-policy")
            throw Exit(status: .usageOrIOError)
        }
        switch format {
        case .text:
            Output.standardOutput(DiffTextRenderer().render(report))
            printer.emit(outcome.diagnostics + report.diagnostics, sources: outcome.sources, tool: "xen-policy")
        case .json:
            // Warnings about the inputs (W01xx from the checker) join the report's findings.
            Output.standardOutput(DiffJSONRenderer().render(report, inputDiagnostics: outcome.diagnostics))
        case .markdown:
            Output.standardOutput(DiffMarkdownRenderer().render(report))
            printer.emit(outcome.diagnostics, sources: outcome.sources, tool: "xen-policy")
        }
        switch failOn {
        case .widened where report.widensAccess, .any where report.hasChanges:
            throw Exit(status: .inputError)
        default:
            break
        }
    }
}
