import ArgumentParser
import PolicyDiagnostics
import PolicyLint
import XenPolicyKit

#if canImport(Glibc)
    import Glibc
#endif

/// Output formats of `lint`.
enum LintFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, github
}

extension LintSeverity: ExpressibleByArgument {}

/// `xen-policy lint`.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Find what is legal but probably wrong in ACM policies and protocol descriptions.",
        discussion: """
            Each policy is checked as the compiler checks it (its generation is detected: the newest target \
            whose schema and checks it passes); one that does not compile is reported with the compiler's \
            diagnostics. Then the rules run. A protocol description (*.xpd) is loaded with the libraries it \
            imports (beside it, then in each -I directory) and checked as 'xen-policyc compile --rules' \
            does; one with errors is reported with the checker's diagnostics. A directory lints the *.xml \
            and *.xpd files below it; a Xen 3.0.2 '<name>-security_policy.xml' is linted together with the \
            '<name>-security_label_template.xml' beside it.

            Suppress a finding with a comment right before the element (or an enclosing one): \
            <!-- xen-policy-disable RULE-ID: reason -->; in a protocol description, with \
            // xen-policy-disable RULE-ID: reason before the declaration (before the first unit: the whole \
            file). The configuration file (--config, else \
            .xen-policy-lint.json in the current directory) is JSON with the optional keys "enable", \
            "disable" (arrays of rule IDs), "severity" (rule ID to "error", "warning" or "info") and \
            "fail-level". The command line overrides it.

            Exit status: 0 no finding at or above --fail-level (default warning), 1 such a finding or a \
            policy or description that does not compile, 2 usage, configuration or I/O error. See \
            docs/lint/README.md.
            """
    )

    @Argument(help: "Policy files, protocol descriptions (*.xpd) and directories to lint.")
    var paths: [String] = []

    @Option(name: .customShort("I"), help: "A directory to search for the libraries protocol descriptions import.")
    var searchPaths: [String] = []

    @Option(help: "Output: text (on stderr), json, sarif or github (workflow annotations) (on stdout).")
    var format: LintFormat = .text

    @Option(help: "The configuration file (default: .xen-policy-lint.json in the current directory, if present).")
    var config: String?

    @Option(name: .customLong("enable"), help: "Enable a rule (repeatable); opt-in rules need this.")
    var enabledRules: [String] = []

    @Option(name: .customLong("disable"), help: "Disable a rule (repeatable).")
    var disabledRules: [String] = []

    @Option(help: "The lowest severity that makes the run fail: error, warning (default) or info.")
    var failLevel: LintSeverity?

    @Flag(help: "Apply the fixes that cannot change what the policy means, and list them.")
    var fix = false

    @Option(help: "Print the documentation of a rule and exit.")
    var explain: String?

    @Flag(help: "List every rule and exit.")
    var listRules = false

    @Option(help: "Colour text output: auto, always or never.")
    var color: ColorMode = .auto

    func validate() throws {
        if explain == nil && !listRules && paths.isEmpty {
            throw ValidationError("give at least one policy file, protocol description or directory")
        }
    }

    func run() throws {
        if let explain {
            guard RuleRegistry.description(of: explain) != nil, let page = LintDocumentation.page(for: explain) else {
                let hint = RuleRegistry.suggestion(for: explain).map { " (\($0))" } ?? ""
                Output.standardError("error: unknown rule '\(explain)'\(hint); 'xen-policy lint --list-rules' lists them\n")
                throw Exit(status: .usageOrIOError)
            }
            Output.standardOutput(page)
            return
        }
        if listRules {
            Output.standardOutput(Self.ruleList())
            return
        }
        let selection = try loadSelection()
        let (inputs, problems) = LintInput.expand(paths)
        let pipeline = LintPipeline(selection: selection, searchPaths: searchPaths)
        var findings = problems.map(Finding.init)
        // Protocols that extend one library each report what they find in it: once is enough.
        var reported: Set<FindingKey> = []
        var sources: [SourceLines] = []
        var status = problems.isEmpty ? ExitStatus.success : .usageOrIOError
        for input in inputs {
            let result = pipeline.lint(input, fix: fix)
            findings += result.findings.filter { reported.insert(FindingKey($0)).inserted }
            sources.append(result.sources)
            for fixed in result.fixed {
                Output.standardError("\(fixed.location): fixed: \(fixed.fix?.summary ?? fixed.message) [\(fixed.rule)]\n")
            }
            if let refusal = result.fixRefusal {
                Output.standardError("\(input.path): fixes not applied: \(refusal)\n")
            }
            if result.status == .usageOrIOError || (result.status == .inputError && status == .success) {
                status = result.status
            }
        }
        if inputs.isEmpty && problems.isEmpty {
            Output.standardError(
                "note: no policy files (*.xml) or protocol descriptions (*.xpd) found in \(paths.joined(separator: ", "))\n")
        }
        render(findings, sources: CombinedSources(parts: sources), files: inputs.count, selection: selection)
        if status == .success, findings.contains(where: { $0.severity >= selection.failLevel }) {
            status = .inputError
        }
        if status != .success { throw Exit(status: status) }
    }

    private func loadSelection() throws -> RuleSelection {
        var configuration = LintConfiguration()
        var configurationName = "the configuration"
        let path = config ?? (access(LintConfiguration.defaultFileName, F_OK) == 0 ? LintConfiguration.defaultFileName : nil)
        do {
            if let path {
                let bytes: [UInt8]
                do {
                    bytes = try InputFile.read(path, limit: 1 << 20)
                } catch {
                    throw ConfigurationError(InputFile.diagnostic(for: error, path: path).message)
                }
                configuration = try LintConfiguration.parse(bytes, file: path)
                configurationName = "'\(path)'"
            }
            return try RuleSelection(
                configuration: configuration, enable: enabledRules, disable: disabledRules, failLevel: failLevel,
                configurationName: configurationName)
        } catch let error as ConfigurationError {
            Output.standardError("error: \(error.message)\n")
            throw Exit(status: .usageOrIOError)
        }
    }

    private func render(_ findings: [Finding], sources: CombinedSources, files: Int, selection: RuleSelection) {
        let ordered = findings.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
        switch format {
        case .text:
            let colored = DiagnosticPrinter(format: .text, color: color).colored
            Output.standardError(FindingRenderer.text(ordered, sources: sources, colored: colored, files: files))
        case .json:
            Output.standardOutput(FindingRenderer.json(ordered))
        case .sarif:
            let rules = RuleRegistry.descriptions.filter { selection.isEnabled($0.id) }
            Output.standardOutput(FindingRenderer.sarif(ordered, rules: rules, toolVersion: xenPolicyVersion))
        case .github:
            Output.standardOutput(FindingRenderer.github(ordered))
        }
    }

    /// One line per rule: ID, default severity, category, whether it is on by default, summary.
    static func ruleList() -> String {
        let width = RuleRegistry.descriptions.map(\.id.count).max() ?? 0
        return RuleRegistry.descriptions.map { rule in
            let id = rule.id + String(repeating: " ", count: width - rule.id.count)
            let severity = rule.defaultSeverity.rawValue.padding(7)
            let category = rule.category.rawValue.padding(11)
            let extra = (rule.isEnabledByDefault ? "" : " (opt-in)") + (rule.isFixable ? " (fixable)" : "")
            return "\(id)  \(severity)  \(category)  \(rule.summary)\(extra)\n"
        }.joined()
    }
}

/// Source lines of several inputs.
private struct CombinedSources: SourceLineProvider {
    var parts: [SourceLines]

    func text(ofLine line: Int, in file: String) -> String? {
        for part in parts {
            if let text = part.text(ofLine: line, in: file) { return text }
        }
        return nil
    }

    func bytes(ofLine line: Int, in file: String) -> ArraySlice<UInt8>? {
        for part in parts {
            if let bytes = part.bytes(ofLine: line, in: file) { return bytes }
        }
        return nil
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
