import ArgumentParser
import PolicyModel
import XenPolicyKit

extension Target: ExpressibleByArgument {}

/// `xen-policyc compile`.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Type-check an ACM policy and protocol descriptions; write the hypervisor blob, label map and rule table.",
        discussion: """
            Inputs: at most one policy (.xml) and any number of protocol descriptions (.xpd). \
            Targets: xen-3.0.2 (two files: policy + --label-template), xen-3.0.4, xen-3.1, xen-3.2, \
            xen-4.1 (default). Output is byte-identical to what Xen's own tools produced for that release. \
            Protocols compile into one rule table (--rules); given together with a policy, their label \
            bindings are checked against it. Outputs are written atomically, all or none: a failed run \
            leaves existing files untouched.
            """
    )

    @Argument(help: "The policy XML file and/or protocol description files (.xpd).")
    var inputs: [String]

    @Option(help: "The Xen release whose policy format to emit (\(Target.allCases.map(\.rawValue).joined(separator: ", "))).")
    var target: Target?

    @Option(name: .shortAndLong, help: "Where to write the binary policy blob.")
    var output: String?

    @Option(help: "Where to write the label-mapping (.map) file.")
    var map: String?

    @Option(help: "The label template file of a Xen 3.0.2 policy (implies --target xen-3.0.2).")
    var labelTemplate: String?

    @Option(help: "Where to write the xenstore checker rule table compiled from the .xpd inputs.")
    var rules: String?

    @Option(name: .customShort("I"), help: "A directory to search for imported protocol libraries.")
    var searchPaths: [String] = []

    @Flag(help: "Compare with the existing output files instead of writing them; exit 1 if they differ.")
    var check = false

    private var policy: String? { inputs.first { !$0.hasSuffix(".xpd") } }
    private var protocols: [String] { inputs.filter { $0.hasSuffix(".xpd") } }

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give a policy file (.xml) and/or protocol descriptions (.xpd)") }
        if inputs.filter({ !$0.hasSuffix(".xpd") }).count > 1 {
            throw ValidationError("give at most one policy file (the Xen 3.0.2 label template goes with --label-template)")
        }
        if policy != nil && output == nil && map == nil {
            throw ValidationError("give an output file with -o/--output (and optionally --map)")
        }
        if policy == nil && (output != nil || map != nil || labelTemplate != nil) {
            throw ValidationError("-o, --map and --label-template need a policy file")
        }
        if !protocols.isEmpty && rules == nil {
            throw ValidationError("give the rule table file with --rules for the .xpd inputs")
        }
        if protocols.isEmpty && rules != nil {
            throw ValidationError("--rules needs protocol description files (.xpd)")
        }
        if labelTemplate != nil, let target, target != .xen302 {
            throw ValidationError("--label-template is only for --target xen-3.0.2 (Xen 3.0.2 kept labels in a second file)")
        }
        if target == .xen302 && labelTemplate == nil && policy != nil {
            throw ValidationError("--target xen-3.0.2 needs the label template file: --label-template FILE")
        }
    }

    func run() throws {
        let effectiveTarget = target ?? (labelTemplate != nil ? .xen302 : .default)
        let request = PolicyCompiler.Request(
            policyPath: policy, labelTemplatePath: labelTemplate, target: effectiveTarget, outputPath: output,
            mapPath: map, check: check, protocolPaths: protocols, rulesPath: rules, searchPaths: searchPaths)
        let outcome = PolicyCompiler().run(request)
        diagnostics.emit(outcome.diagnostics, sources: outcome.sources, tool: "xen-policyc")
        if outcome.status != .success { throw Exit(status: outcome.status) }
    }
}
