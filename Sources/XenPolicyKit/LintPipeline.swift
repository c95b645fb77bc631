import PolicyChecker
import PolicyDiagnostics
import PolicyEmitter
import PolicyLint
import PolicyModel
import PolicyReader

/// `xen-policy lint`: detect the policy's generation, check it as the compiler does, run the lint
/// rules, and (with `--fix`) apply the meaning-preserving fixes. Protocol descriptions (`.xpd`) are
/// loaded with their imports, checked, and linted by the protocol rules (`ProtocolLintPipeline.swift`).
public struct LintPipeline: Sendable {
    /// Codes of the pipeline's own messages (not rules: they cannot be disabled or suppressed).
    public enum Code {
        /// A Xen 3.0.2 policy file without its label template beside it.
        public static let missingLabelTemplate = "missing-label-template"
    }

    public var selection: RuleSelection
    /// Extra directories to look for the libraries `.xpd` files import (`-I`).
    public var searchPaths: [String]

    public init(selection: RuleSelection = RuleSelection(), searchPaths: [String] = []) {
        self.selection = selection
        self.searchPaths = searchPaths
    }

    /// What linting one input found and did.
    public struct Result: Sendable {
        public var input: LintInput
        /// Rule findings, or the compiler's diagnostics when the policy does not compile.
        public var findings: [Finding]
        /// The inputs' text, for excerpts.
        public var sources: SourceLines
        /// The newest target the policy compiles for (nil if it compiles for none, and for protocol descriptions).
        public var target: Target?
        /// For a protocol description: the protocols it defines that checked and were linted.
        public var protocols: [String] = []
        /// The findings `--fix` removed (each with its fix), as they were before the fix.
        public var fixed: [Finding]
        /// Why `--fix` wrote nothing although there were fixes, if so.
        public var fixRefusal: String?
        /// `.usageOrIOError` for unreadable or unsupported inputs, `.inputError` for policies that do
        /// not compile; findings are judged against the fail level by the caller.
        public var status: ExitStatus
    }

    /// Lints one input from disk; with `fix`, applies the fixes, re-checks and writes them atomically.
    public func lint(_ input: LintInput, fix: Bool = false) -> Result {
        // Protocol descriptions have no fixes: every change to one changes what the checker enforces.
        guard input.kind == .policy else { return lintProtocolDescription(input) }
        var files: [FileBytes] = []
        for path in [input.path] + (input.labelTemplatePath.map { [$0] } ?? []) {
            do {
                files.append(FileBytes(path: path, bytes: try InputFile.read(path, limit: XMLReader().maximumInputSize)))
            } catch {
                var result = Result(input: input, findings: [], sources: SourceLines(), target: nil, fixed: [], status: .inputError)
                result.findings = [Finding(InputFile.diagnostic(for: error, path: path))]
                if case .tooLarge = error {} else { result.status = .usageOrIOError }
                return result
            }
        }
        var result = lint(files, input: input)
        if fix, result.target != nil {
            applyFixes(to: files, result: &result)
        }
        return result
    }

    /// Lints policy text held in memory (`labelTemplate` for Xen 3.0.2), as if read from the paths.
    public func lint(policy: [UInt8], path: String, labelTemplate: (bytes: [UInt8], path: String)? = nil) -> Result {
        var files = [FileBytes(path: path, bytes: policy)]
        if let labelTemplate { files.append(FileBytes(path: labelTemplate.path, bytes: labelTemplate.bytes)) }
        return lint(files, input: LintInput(path: path, labelTemplatePath: labelTemplate?.path))
    }

    struct FileBytes: Sendable {
        var path: String
        var bytes: [UInt8]
    }

    private func lint(_ files: [FileBytes], input: LintInput) -> Result {
        var sources = SourceLines()
        for file in files { sources.add(file: file.path, contents: file.bytes) }
        var result = Result(input: input, findings: [], sources: sources, target: nil, fixed: [], status: .success)
        switch detect(files, allTargets: false) {
        case .failure(let diagnostics, let status):
            result.findings = diagnostics.map(Finding.init).sorted { $0.location < $1.location }
            result.status = status
        case .success(let compiled):
            let first = compiled[0]
            result.target = first.target
            let context = PolicyLintContext(
                policy: first.policy, target: first.target, documents: first.documents,
                sources: files.map { SourceText(file: $0.path, bytes: $0.bytes) })
            result.findings = PolicyLinter(selection: selection).lint(context)
        }
        return result
    }

    // MARK: - Generation detection

    /// A policy checked for one target.
    struct Checked {
        var target: Target
        var policy: Policy
        var documents: [XMLDocument]
    }

    enum Detection {
        /// The targets the policy compiles for, newest first (only the newest unless all were asked for).
        case success([Checked])
        /// The diagnostics to show: those of the newest target whose schema accepted the file, else
        /// the schema errors of the default target.
        case failure([Diagnostic], ExitStatus)
    }

    /// Tries each target, newest first: its generation's schema, then the checker. Each schema parses
    /// the file once, however many targets share it.
    func detect(_ files: [FileBytes], allTargets: Bool) -> Detection {
        let reader = XMLReader()
        let policyFile = files[0]
        let templateFile = files.count > 1 ? files[1] : nil
        var reads: [ACMSchema: XMLReader.Result] = [:]
        var templateRead: XMLReader.Result? = nil
        var compiled: [Checked] = []
        var firstFailure: [Diagnostic]? = nil
        for target in Target.allCases.reversed() {
            let schema = PolicyCompiler.schema(for: target)
            if reads[schema] == nil { reads[schema] = reader.read(bytes: policyFile.bytes, path: policyFile.path, schema: schema) }
            guard let document = reads[schema]?.document else { continue }
            var documents = [document]
            if target == .xen302 {
                guard let templateFile else {
                    firstFailure =
                        firstFailure ?? [
                            .error(
                                DiagnosticCode(rawValue: Code.missingLabelTemplate),
                                "'\(policyFile.path)' is a Xen 3.0.2 policy file, but its label template is not beside it",
                                at: SourceLocation(file: policyFile.path),
                                hint: "Xen 3.0.2 keeps the labels in '<name>-security_label_template.xml' next to "
                                    + "'<name>-security_policy.xml'; lint the pair")
                        ]
                    continue
                }
                templateRead = templateRead ?? reader.read(bytes: templateFile.bytes, path: templateFile.path, schema: schema)
                guard let template = templateRead?.document else {
                    firstFailure = firstFailure ?? templateRead?.diagnostics
                    continue
                }
                documents.append(template)
            }
            let (policy, diagnostics) = PolicyChecker(target: target).check(policy: document, labelTemplate: documents.dropFirst().first)
            guard let policy else {
                firstFailure = firstFailure ?? diagnostics
                continue
            }
            compiled.append(Checked(target: target, policy: policy, documents: documents))
            if !allTargets { break }
        }
        if !compiled.isEmpty { return .success(compiled) }
        if let firstFailure { return .failure(firstFailure, .inputError) }
        let read = reads[PolicyCompiler.schema(for: .default)]
        return .failure(read?.diagnostics ?? [], read?.isIOFailure == true ? .usageOrIOError : .inputError)
    }

    // MARK: - Fixes

    /// Applies every finding's fix in memory, then writes only if each target the policy compiled for
    /// still compiles, to the same blob (the Xen 3.3-4.1 XML hash aside, which digests the text).
    private func applyFixes(to files: [FileBytes], result: inout Result) {
        let fixable = result.findings.filter { $0.fix != nil }
        guard !fixable.isEmpty else { return }
        var fixed = files
        var applied: [Finding] = []
        var taken: [String: [Range<Int>]] = [:]
        for finding in fixable {
            guard let fix = finding.fix else { continue }
            // Two fixes touching the same bytes cannot both be applied; the next run picks up the rest.
            let overlaps = fix.edits.contains { edit in taken[edit.file, default: []].contains { $0.overlaps(edit.range) } }
            guard !overlaps, fix.edits.allSatisfy({ edit in files.contains { $0.path == edit.file } }) else { continue }
            for edit in fix.edits { taken[edit.file, default: []].append(edit.range) }
            applied.append(finding)
        }
        guard !applied.isEmpty else { return }
        for index in fixed.indices {
            let edits = applied.compactMap(\.fix).flatMap(\.edits).filter { $0.file == fixed[index].path }.sorted {
                $0.range.lowerBound > $1.range.lowerBound
            }
            for edit in edits { fixed[index].bytes.replaceSubrange(edit.range, with: Array(edit.replacement.utf8)) }
        }
        guard case .success(let before) = detect(files, allTargets: true) else { return }
        guard case .success(let after) = detect(fixed, allTargets: true) else {
            result.fixRefusal = "the fixed file would not compile; nothing was written"
            return
        }
        for old in before {
            guard let new = after.first(where: { $0.target == old.target }) else {
                result.fixRefusal = "the fixed file would no longer compile for \(old.target); nothing was written"
                return
            }
            guard Self.blob(old.policy, old.target) == Self.blob(new.policy, new.target) else {
                result.fixRefusal = "the fixed file would compile to a different \(old.target) blob; nothing was written"
                return
            }
        }
        let changed = fixed.enumerated().filter { $0.element.bytes != files[$0.offset].bytes }.map(\.element)
        do {
            try AtomicFile.write(changed.map { ($0.path, $0.bytes) })
        } catch {
            result.fixRefusal = "cannot write '\(error.path)': \(error.reason)"
            result.status = .usageOrIOError
            return
        }
        let relinted = lint(fixed, input: result.input)
        result.findings = relinted.findings
        result.sources = relinted.sources
        result.fixed = applied
    }

    /// The blob of `policy` for `target`, without the XML hash (the reader computed none).
    private static func blob(_ policy: Policy, _ target: Target) -> [UInt8] {
        var policy = policy
        policy.xmlDigest = nil
        return PolicyEmitter.compile(policy, for: target).blob
    }
}
