import PolicyChecker
import PolicyDiagnostics
import PolicyEmitter
import PolicyModel
import PolicyReader
import ProtocolChecker
import ProtocolModel
import RuleTable

/// The compile pipeline behind `xen-policyc compile`: read, validate, check, emit, write; for a
/// policy, protocol descriptions, or both together.
public struct PolicyCompiler: Sendable {
    /// What to compile and where to put it.
    public struct Request: Sendable {
        /// The ACM policy XML, if any.
        public var policyPath: String?
        /// The G1 label template file (`xen-3.0.2` only).
        public var labelTemplatePath: String?
        public var target: Target
        public var outputPath: String?
        public var mapPath: String?
        /// Compare with the existing outputs instead of writing them.
        public var check: Bool
        /// Protocol descriptions (`.xpd`) to compile into one rule table.
        public var protocolPaths: [String]
        /// Where to write the rule table.
        public var rulesPath: String?
        /// Directories to search for imported protocol libraries.
        public var searchPaths: [String]

        public init(
            policyPath: String?, labelTemplatePath: String? = nil, target: Target, outputPath: String? = nil,
            mapPath: String? = nil, check: Bool = false, protocolPaths: [String] = [], rulesPath: String? = nil,
            searchPaths: [String] = []
        ) {
            self.protocolPaths = protocolPaths
            self.rulesPath = rulesPath
            self.searchPaths = searchPaths
            self.policyPath = policyPath
            self.labelTemplatePath = labelTemplatePath
            self.target = target
            self.outputPath = outputPath
            self.mapPath = mapPath
            self.check = check
        }
    }

    /// What happened.
    public struct Outcome: Sendable {
        public var diagnostics: [Diagnostic]
        /// The inputs' text, for excerpts under diagnostics.
        public var sources: SourceLines
        public var compiled: CompiledPolicy?
        public var mapText: String?
        public var status: ExitStatus
    }

    public init() {}

    /// Runs the pipeline. Writes outputs only when there is no error anywhere (atomically, all or none).
    public func run(_ request: Request) -> Outcome {
        var outcome = Outcome(diagnostics: [], sources: SourceLines(), compiled: nil, mapText: nil, status: .success)
        var files: [(path: String, bytes: [UInt8])] = []
        var policy: Policy? = nil
        if let policyPath = request.policyPath {
            if let (loaded, sources) = load(request, into: &outcome) {
                policy = loaded
                outcome.sources = sources
                // The XML tree is gone by now; hand its heap back before the blob is built, so that
                // the two never count towards the peak together (docs/benchmarks.md, "compile").
                XMLReader.releaseFreedMemory()
                let compiled = PolicyEmitter.compile(loaded, for: request.target)
                outcome.compiled = compiled
                if let output = request.outputPath { files.append((output, compiled.blob)) }
                if let map = request.mapPath {
                    let mapBytes = compiled.mapBytes(
                        policyFile: mapPath(policyPath, target: request.target),
                        binaryFile: mapPath(request.outputPath ?? "", target: request.target))
                    outcome.mapText = String(decoding: mapBytes, as: UTF8.self)
                    files.append((map, mapBytes))
                }
            }
        }
        if !request.protocolPaths.isEmpty {
            let checked = ProtocolPipeline(searchPaths: request.searchPaths).check(request.protocolPaths)
            outcome.diagnostics += checked.diagnostics
            outcome.sources.merge(checked.sources)
            if checked.status != .success, outcome.status != .usageOrIOError { outcome.status = checked.status }
            var admissions: [LabelAdmission] = []
            if let policy {
                let binding = LabelBindingCheck.check(checked.definitions, against: policy)
                outcome.diagnostics += binding
                if binding.contains(where: { $0.severity == .error }), outcome.status == .success { outcome.status = .inputError }
                let steTypes = Dictionary(policy.vmLabels.map { ($0.name, Set($0.steTypes ?? [])) }, uniquingKeysWith: { a, _ in a })
                admissions = LabelAdmission.compute(
                    for: checked.definitions, vmLabels: policy.vmLabels.map(\.name),
                    sharesType: { !(steTypes[$0] ?? []).isDisjoint(with: steTypes[$1] ?? []) })
            }
            if let rulesPath = request.rulesPath, checked.status == .success {
                let table = CompiledRuleTable(protocols: checked.definitions, policyName: policy?.name, admissions: admissions)
                files.append((rulesPath, RuleTableEncoder.encode(table)))
            }
        }
        guard outcome.status == .success else { return outcome }
        if request.check {
            compare(files, into: &outcome)
        } else if !files.isEmpty {
            do {
                try AtomicFile.write(files)
            } catch {
                outcome.diagnostics.append(
                    .error("E0901", "cannot write '\(error.path)': \(error.reason)", at: SourceLocation(file: error.path)))
                outcome.status = .usageOrIOError
            }
        }
        return outcome
    }

    /// Reads, validates and checks the inputs of `request` (its outputs are ignored) into a `Policy`.
    ///
    /// - Returns: the policy, or nil on errors; and the outcome with diagnostics, sources and status.
    public func checkedPolicy(_ request: Request) -> (policy: Policy?, outcome: Outcome) {
        var outcome = Outcome(diagnostics: [], sources: SourceLines(), compiled: nil, mapText: nil, status: .success)
        let loaded = load(request, into: &outcome)
        return (loaded?.0, outcome)
    }

    /// Reads, validates and checks the inputs into a `Policy`; nil (with the outcome filled in) on errors.
    func load(_ request: Request, into outcome: inout Outcome) -> (Policy, SourceLines)? {
        let reader = XMLReader(computesMinidomDigest: request.target == .xen41)
        let schema = Self.schema(for: request.target)
        var sources = SourceLines()
        var diagnostics: [Diagnostic] = []
        var ioFailure = false

        guard let policyPath = request.policyPath else { return nil }
        let policyRead = reader.read(file: policyPath, schema: schema)
        if let contents = policyRead.contents { sources.add(file: policyPath, contents: contents) }
        diagnostics += withGenerationHint(policyRead, path: policyPath, target: request.target, reader: reader)
        ioFailure = ioFailure || policyRead.isIOFailure

        var templateDocument: XMLDocument? = nil
        if let templatePath = request.labelTemplatePath {
            let templateRead = reader.read(file: templatePath, schema: schema)
            if let contents = templateRead.contents { sources.add(file: templatePath, contents: contents) }
            diagnostics += templateRead.diagnostics
            ioFailure = ioFailure || templateRead.isIOFailure
            templateDocument = templateRead.document
        }
        outcome.sources = sources
        guard let document = policyRead.document, request.labelTemplatePath == nil || templateDocument != nil else {
            outcome.diagnostics = diagnostics
            outcome.status = ioFailure ? .usageOrIOError : .inputError
            return nil
        }
        let (policy, checkDiagnostics) = PolicyChecker(target: request.target).check(
            policy: document, labelTemplate: templateDocument)
        diagnostics += checkDiagnostics
        outcome.diagnostics = diagnostics
        guard let policy else {
            outcome.status = .inputError
            return nil
        }
        return (policy, sources)
    }

    /// The XSD of a target's generation.
    public static func schema(for target: Target) -> ACMSchema {
        switch target {
        case .xen302: .g1
        case .xen304: .g2
        case .xen31: .g3a
        case .xen32, .xen41: .g3b
        }
    }

    /// When a file fails our target's schema but fits another generation's, say which target fits.
    private func withGenerationHint(_ read: XMLReader.Result, path: String, target: Target, reader: XMLReader) -> [Diagnostic] {
        var diagnostics = read.diagnostics
        guard read.document == nil, let contents = read.contents, diagnostics.contains(where: { $0.code == "E0010" }),
            let first = diagnostics.firstIndex(where: { $0.code == "E0010" })
        else { return diagnostics }
        let fitting = Target.allCases.reversed().filter { candidate in
            Self.schema(for: candidate) != Self.schema(for: target)
                && reader.read(bytes: contents, path: path, schema: Self.schema(for: candidate)).document != nil
        }
        if let best = fitting.first {
            diagnostics[first].notes.append(
                DiagnosticNote("the file is a valid \(best) policy; compile it with --target \(best)"))
        }
        return diagnostics
    }

    /// The path as the historical tool printed it in the map: G1 printed base names.
    private func mapPath(_ path: String, target: Target) -> String {
        guard target == .xen302, let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private func compare(_ files: [(path: String, bytes: [UInt8])], into outcome: inout Outcome) {
        for file in files {
            let existing: [UInt8]
            do {
                existing = try InputFile.read(file.path, limit: 1 << 30)
            } catch {
                outcome.diagnostics.append(InputFile.diagnostic(for: error, path: file.path))
                outcome.status = .usageOrIOError
                continue
            }
            if existing != file.bytes {
                let offset =
                    zip(existing, file.bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(existing.count, file.bytes.count)
                outcome.diagnostics.append(
                    .error(
                        "E0902", "'\(file.path)' differs from the compiled output (first difference at byte \(offset))",
                        at: SourceLocation(file: file.path), hint: "run without --check to rewrite it"))
                if outcome.status == .success { outcome.status = .inputError }
            }
        }
    }
}
