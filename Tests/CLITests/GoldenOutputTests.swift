import Foundation
import Testing

/// The complete output of the commands as a user sees it, compared with golden files: diagnostics
/// in every format, `inspect`, `decompile`, `lint`, `diff`, `graph`, the rule table dump and the
/// help texts. The other CLI tests check behaviour; these catch any change in what is printed.
@Suite struct GoldenOutputTests {
    /// One invocation: the command line as shown in the golden file, and the tool and arguments.
    struct Invocation: CustomTestStringConvertible, Sendable {
        var golden: String
        var tool: String
        var arguments: [String]
        var testDescription: String { golden }
    }

    static let corpus = "Tests/XenPolicyKitTests/Conformance/expected"
    static let broken = "Tests/CLITests/Fixtures/broken.xml"
    static let lintFindings = "Tests/CLITests/Fixtures/lint-findings.xml"
    static let pciTrace = "Examples/traces/violation-pci-frontend-ignores-hotplug.log"
    /// Stands for the per-run scratch directory in arguments and output.
    static let scratch = "$TMP"

    static let invocations: [Invocation] = [
        Invocation(golden: "compile-broken.txt", tool: "xen-policyc", arguments: ["compile", broken, "-o", "\(scratch)/b.bin"]),
        Invocation(
            golden: "compile-broken-json.txt", tool: "xen-policyc",
            arguments: ["compile", "--format", "json", broken, "-o", "\(scratch)/b.bin"]),
        Invocation(
            golden: "compile-broken-sarif.txt", tool: "xen-policyc",
            arguments: ["compile", "--format", "sarif", broken, "-o", "\(scratch)/b.bin"]),
        Invocation(
            golden: "compile-protocols.txt", tool: "xen-policyc",
            arguments: ["compile", "--rules", "\(scratch)/vbd.xsrt", "Examples/protocols/xenbus.xpd", "Examples/protocols/vbd.xpd"]),
        Invocation(
            golden: "inspect-mini.txt", tool: "xen-policy",
            arguments: ["inspect", "\(corpus)/mini.xen-4.1.bin", "--map", "\(corpus)/mini.xen-4.1.map"]),
        Invocation(
            golden: "inspect-mini-json.txt", tool: "xen-policy",
            arguments: ["inspect", "--format", "json", "\(corpus)/mini.xen-4.1.bin", "--map", "\(corpus)/mini.xen-4.1.map"]),
        Invocation(
            golden: "inspect-xen302-chwall_ste.txt", tool: "xen-policy",
            arguments: ["inspect", "\(corpus)/xen302-chwall_ste.xen-3.0.2.bin", "--map", "\(corpus)/xen302-chwall_ste.xen-3.0.2.map"]),
        Invocation(
            golden: "decompile-mini.txt", tool: "xen-policy",
            arguments: ["decompile", "\(corpus)/mini.xen-4.1.bin", "--map", "\(corpus)/mini.xen-4.1.map"]),
        Invocation(golden: "lint-findings.txt", tool: "xen-policy", arguments: ["lint", lintFindings]),
        Invocation(golden: "lint-findings-json.txt", tool: "xen-policy", arguments: ["lint", "--format", "json", lintFindings]),
        Invocation(golden: "lint-findings-sarif.txt", tool: "xen-policy", arguments: ["lint", "--format", "sarif", lintFindings]),
        Invocation(golden: "lint-findings-github.txt", tool: "xen-policy", arguments: ["lint", "--format", "github", lintFindings]),
        Invocation(
            golden: "diff-xm-test.txt", tool: "xen-policy",
            arguments: ["diff", "Examples/policies/xm-test.xml", "Examples/policies/xm-test-update.xml"]),
        Invocation(
            golden: "diff-xm-test-markdown.txt", tool: "xen-policy",
            arguments: ["diff", "--format", "markdown", "Examples/policies/xm-test.xml", "Examples/policies/xm-test-update.xml"]),
        Invocation(
            golden: "diff-xm-test-json.txt", tool: "xen-policy",
            arguments: ["diff", "--format", "json", "Examples/policies/xm-test.xml", "Examples/policies/xm-test-update.xml"]),
        Invocation(
            golden: "graph-vbd.txt", tool: "xen-policy", arguments: ["graph", "-I", "Examples/protocols", "Examples/protocols/vbd.xpd"]),
        // pci has a key machine (be/state-{n}), drawn as a cluster of its own.
        Invocation(
            golden: "graph-pci.txt", tool: "xen-policy", arguments: ["graph", "-I", "Examples/protocols", "Examples/protocols/pci.xpd"]),
        Invocation(golden: "help-xen-policyc-compile.txt", tool: "xen-policyc", arguments: ["compile", "--help"]),
        Invocation(
            golden: "usage-unknown-target.txt", tool: "xen-policyc",
            arguments: ["compile", "--target", "xen-9", "Examples/policies/mini.xml", "-o", "\(scratch)/x.bin"]),
        Invocation(golden: "usage-replay-without-trace.txt", tool: "xen-policy", arguments: ["replay", "--rules", "\(scratch)/none.xsrt"]),
        // An expired expectation: the trace line that armed it, the one that passed its deadline, the rule.
        Invocation(
            golden: "replay-violations-sarif.txt", tool: "xen-policy",
            arguments: [
                "replay", "--format", "sarif", "-I", "Examples/protocols", "--protocols", "Examples/protocols/pci.xpd", "--", pciTrace,
            ]),
        Invocation(
            golden: "replay-violations-github.txt", tool: "xen-policy",
            arguments: [
                "replay", "--format", "github", "-I", "Examples/protocols", "--protocols", "Examples/protocols/pci.xpd", "--", pciTrace,
            ]),
        Invocation(golden: "help-xen-policy.txt", tool: "xen-policy", arguments: ["--help"]),
    ]

    @Test(arguments: invocations) func output(_ invocation: Invocation) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = invocation.arguments.map { $0.replacingOccurrences(of: Self.scratch, with: directory.path) }
        var result = try CommandRunner.run(invocation.tool, arguments)
        if invocation.golden == "compile-protocols.txt" {
            // The table just written, dumped: the compile and its dump in one file.
            let dump = try CommandRunner.run("xen-policy", ["inspect", "\(directory.path)/vbd.xsrt"])
            result.standardOutput += "--- inspect \(Self.scratch)/vbd.xsrt (exit \(dump.status))\n" + dump.standardOutput
            result.standardError += dump.standardError
        }
        let text = """
            $ \(([invocation.tool] + invocation.arguments).joined(separator: " "))
            exit \(result.status)
            --- stdout
            \(result.standardOutput)--- stderr
            \(result.standardError)
            """
        try Golden.check(text.replacingOccurrences(of: directory.path, with: Self.scratch), invocation.golden)
    }
}
