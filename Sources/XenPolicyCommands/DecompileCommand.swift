import ArgumentParser
import XenPolicyKit

/// `xen-policy decompile`.
struct DecompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompile",
        abstract: "Write policy XML equivalent to a blob and its label map.",
        discussion: """
            Compiling the result for the blob's target reproduces the blob byte for byte, except the XML \
            SHA-1 of Xen 3.3-4.1 blobs (a digest of the original text). Conflict sets get generated names \
            (the blob does not carry them). Xen 3.0.2 blobs decompile to two files: give \
            --label-template-output as well.
            """
    )

    @Argument(help: "The binary policy blob.")
    var blob: String

    @Option(help: "The label-mapping file written with the blob.")
    var map: String

    @Option(name: .shortAndLong, help: "Where to write the policy XML (default: standard output).")
    var output: String?

    @Option(help: "Where to write the label template of a Xen 3.0.2 blob.")
    var labelTemplateOutput: String?

    @OptionGroup var diagnostics: DiagnosticOptions

    func run() throws {
        let result = BlobPipelines().decompile(
            blobPath: blob, mapPath: map, outputPath: output, labelTemplateOutputPath: labelTemplateOutput)
        diagnostics.emit(result.diagnostics.filter { $0.severity != .note || output != nil }, sources: .init(), tool: "xen-policy")
        if let xml = result.output {
            if xml.labelTemplateXML != nil, output == nil || labelTemplateOutput == nil, result.status == .success {
                if output == nil { Output.standardOutput(xml.policyXML) }
                Output.standardError("error: a Xen 3.0.2 blob decompiles to two files; give -o and --label-template-output\n")
                throw Exit(status: .usageOrIOError)
            }
            if output == nil { Output.standardOutput(xml.policyXML) }
        }
        if result.status != .success { throw Exit(status: result.status) }
    }
}
