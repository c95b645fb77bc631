import PolicyChecker
import PolicyDiagnostics
import PolicyEmitter
import PolicyModel
import PolicyReader

/// The compile pipeline behind `xen-policyc compile`: read, validate, check, emit, write.
public struct PolicyCompiler: Sendable {
    /// What to compile and where to put it.
    public struct Request: Sendable {
        public var policyPath: String
        /// The G1 label template file (`xen-3.0.2` only).
        public var labelTemplatePath: String?
        public var target: Target
        public var outputPath: String?
        public var mapPath: String?
        /// Compare with the existing outputs instead of writing them.
        public var check: Bool

        public init(
            policyPath: String, labelTemplatePath: String? = nil, target: Target, outputPath: String? = nil,
            mapPath: String? = nil, check: Bool = false
        ) {
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

    /// Runs the pipeline. Writes outputs only when there is no error (atomically, all or none).
    public func run(_ request: Request) -> Outcome {
        var outcome = Outcome(diagnostics: [], sources: SourceLines(), compiled: nil, mapText: nil, status: .success)
        guard let (policy, sources) = load(request, into: &outcome) else { return outcome }
        outcome.sources = sources
        let compiled = PolicyEmitter.compile(policy, for: request.target)
        outcome.compiled = compiled
        let mapText = compiled.mapText(
            policyFile: mapPath(request.policyPath, target: request.target),
            binaryFile: mapPath(request.outputPath ?? "", target: request.target))
        outcome.mapText = mapText
        var files: [(path: String, bytes: [UInt8])] = []
        if let output = request.outputPath { files.append((output, compiled.blob)) }
        if let map = request.mapPath { files.append((map, Array(mapText.utf8))) }
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

        let policyRead = reader.read(file: request.policyPath, schema: schema)
        if let contents = policyRead.contents { sources.add(file: request.policyPath, contents: contents) }
        diagnostics += withGenerationHint(policyRead, path: request.policyPath, target: request.target, reader: reader)
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
