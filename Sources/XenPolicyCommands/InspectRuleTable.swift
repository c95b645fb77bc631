import ArgumentParser
import PolicyDiagnostics
import XenPolicyKit

extension InspectCommand {
    /// `inspect TABLE.xsrt`: dumps a xenstore rule table; exit 1 when it is malformed.
    func inspectRuleTable(_ loaded: RuleTablePipeline.Loaded) throws {
        if map != nil || policy != nil {
            throw ValidationError("--map and --policy apply to ACM policy blobs, not to the rule table '\(blob)'")
        }
        var printer = DiagnosticPrinter(format: .text, color: color)
        if let report = loaded.report(json: format == .json) {
            Output.standardOutput(report)
            if format == .text { printer.emit(loaded.diagnostics, sources: SourceLines(), tool: "xen-policy") }
        } else {
            printer.format = format == .json ? .json : .text
            printer.emit(loaded.diagnostics, sources: SourceLines(), tool: "xen-policy")
        }
        if loaded.status != .success { throw Exit(status: loaded.status) }
    }
}
