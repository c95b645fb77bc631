import FuzzSupport
import PolicyDiagnostics
import PolicyLint
import XenPolicyKit

/// Every lint rule, the opt-in ones too.
let selection: RuleSelection = {
    let optIn = RuleRegistry.descriptions.filter { !$0.isEnabledByDefault }.map(\.id)
    guard let selection = try? RuleSelection(configuration: LintConfiguration(enable: optIn)) else {
        fatalError("fuzz: cannot enable every rule")
    }
    return selection
}()

/// Bytes -> what `xen-policy lint` runs on them, through `LintPipeline` with every rule enabled:
///
/// - as policy XML (generation detection, the compiler's checks, the policy rules, the XML comment
///   suppressions); split at `FuzzSupport.separator`, the part after it is the Xen 3.0.2 label
///   template. When a finding has a fix, the input is written to a file and linted again with `--fix`
///   (fixes applied, the result re-checked for every target it compiled for, written, linted again);
/// - as an `.xpd` protocol description written to a file, with imports found in `Examples/protocols`
///   (loading, the checker, the protocol rules, the `//` suppressions);
/// - as a lint configuration file (the JSON parser and the rule selection it makes).
///
/// Each result's findings are rendered in the four output formats.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let pipeline = LintPipeline(selection: selection, searchPaths: [FuzzSupport.root + "/Examples/protocols"])

    // Policy XML, in memory.
    let (policy, template) = FuzzSupport.split(bytes)
    let policyPath = "fuzz-security_policy.xml"
    let templatePath = "fuzz-security_label_template.xml"
    let linted = pipeline.lint(policy: policy, path: policyPath, labelTemplate: template.map { ($0, templatePath) })
    render(linted)
    if linted.findings.contains(where: { $0.fix != nil }) {
        // `--fix` writes the files it fixes: give it files.
        let path = FuzzSupport.write(policy, name: policyPath)
        let templateFile = template.map { FuzzSupport.write($0, name: templatePath) }
        let fixed = pipeline.lint(LintInput(path: path, labelTemplatePath: templateFile), fix: true)
        render(fixed)
        if !fixed.fixed.isEmpty, fixed.target == nil {
            fatalError("lint --fix wrote a policy that does not compile: \(fixed.findings.map(\.message))")
        }
    }

    // A protocol description, from a file, imports resolved as `lint -I Examples/protocols` does.
    let description = FuzzSupport.write(bytes, name: "fuzz.xpd")
    render(pipeline.lint(LintInput(kind: .protocolDescription, path: description)))

    // A configuration file.
    if let configuration = try? LintConfiguration.parse(bytes, file: "fuzz.json") {
        FuzzSupport.blackHole(try? RuleSelection(configuration: configuration, configurationName: "fuzz.json"))
    }
    return 0
}

/// The findings as `lint --format text|json|sarif|github` prints them.
func render(_ result: LintPipeline.Result) {
    let findings = result.findings
    FuzzSupport.blackHole(FindingRenderer.text(findings, sources: result.sources, colored: true, files: 1))
    FuzzSupport.blackHole(FindingRenderer.json(findings))
    FuzzSupport.blackHole(FindingRenderer.sarif(findings, rules: RuleRegistry.descriptions, toolVersion: "fuzz"))
    FuzzSupport.blackHole(FindingRenderer.github(findings))
}
