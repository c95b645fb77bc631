import ArgumentParser
import PolicyModel
import XenPolicyKit

extension Target: ExpressibleByArgument {}

/// `xen-policyc compile`.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Type-check an ACM policy and write the hypervisor blob and label map.",
        discussion: """
            Targets: xen-3.0.2 (two files: policy + --label-template), xen-3.0.4, xen-3.1, xen-3.2, \
            xen-4.1 (default). Output is byte-identical to what Xen's own tools produced for that release. \
            Outputs are written atomically: a failed run leaves existing files untouched.
            """
    )

    @Argument(help: "The policy XML file.")
    var policy: String

    @Option(help: "The Xen release whose policy format to emit (\(Target.allCases.map(\.rawValue).joined(separator: ", "))).")
    var target: Target?

    @Option(name: .shortAndLong, help: "Where to write the binary policy blob.")
    var output: String?

    @Option(help: "Where to write the label-mapping (.map) file.")
    var map: String?

    @Option(help: "The label template file of a Xen 3.0.2 policy (implies --target xen-3.0.2).")
    var labelTemplate: String?

    @Flag(help: "Compare with the existing output files instead of writing them; exit 1 if they differ.")
    var check = false

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        if output == nil && map == nil {
            throw ValidationError("give an output file with -o/--output (and optionally --map)")
        }
        if labelTemplate != nil, let target, target != .xen302 {
            throw ValidationError("--label-template is only for --target xen-3.0.2 (Xen 3.0.2 kept labels in a second file)")
        }
        if target == .xen302 && labelTemplate == nil {
            throw ValidationError("--target xen-3.0.2 needs the label template file: --label-template FILE")
        }
    }

    func run() throws {
        let effectiveTarget = target ?? (labelTemplate != nil ? .xen302 : .default)
        let request = PolicyCompiler.Request(
            policyPath: policy, labelTemplatePath: labelTemplate, target: effectiveTarget, outputPath: output,
            mapPath: map, check: check)
        let outcome = PolicyCompiler().run(request)
        diagnostics.emit(outcome.diagnostics, sources: outcome.sources, tool: "xen-policyc")
        if outcome.status != .success { throw Exit(status: outcome.status) }
    }
}
