import ArgumentParser

/// `xen-policyc`: the policy compiler.
public struct XenPolicyCompilerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "xen-policyc",
        abstract: "Compile Xen ACM (sHype) security policies into hypervisor policy blobs.",
        discussion: """
            Exit status: 0 success, 1 the input has errors, 2 usage or I/O error.
            """,
        version: xenPolicyVersion,
        subcommands: [CompileCommand.self]
    )

    public init() {}

    /// Runs the command line of the process.
    public static func main() { runMain() }
}
