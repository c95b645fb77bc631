import ArgumentParser

/// `xen-policy`: tools around policies and blobs.
public struct XenPolicyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "xen-policy",
        abstract: "Inspect, decompile and review Xen ACM security policies and blobs.",
        discussion: """
            Exit status: 0 success, 1 the input has errors, 2 usage or I/O error.
            """,
        version: xenPolicyVersion,
        subcommands: [
            InspectCommand.self, DecompileCommand.self, DiffCommand.self, LintCommand.self, GraphCommand.self, ReplayCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line of the process.
    public static func main() { runMain() }
}
