import PolicyChecker
import PolicyDiagnostics
import PolicyEmitter
import PolicyModel
import PolicyReader
import PolicyTools

/// `inspect` and `decompile`: read a blob (and its names) back.
public struct BlobPipelines: Sendable {
    /// Blobs are at most a few tens of MB; the bound keeps a hostile input from exhausting memory.
    /// The compiler writes no larger one (E0116).
    public static let maximumBlobSize = PolicyChecker.maximumBlobSize

    public init() {}

    /// A decoded blob with its names.
    public struct Loaded: Sendable {
        public var diagnostics: [Diagnostic]
        public var sources: SourceLines
        public var header: BlobDecoder.Header?
        public var policy: BinaryPolicy?
        public var map: LabelMap?
        public var status: ExitStatus
    }

    /// Reads and decodes `blobPath`; names come from `mapPath`, or from compiling `policyPath` for the
    /// blob's target (then a note says whether the blob is what that policy compiles to).
    public func load(blobPath: String, mapPath: String?, policyPath: String?) -> Loaded {
        var loaded = Loaded(diagnostics: [], sources: SourceLines(), header: nil, policy: nil, map: nil, status: .success)
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(blobPath, limit: Self.maximumBlobSize)
        } catch {
            loaded.diagnostics.append(InputFile.diagnostic(for: error, path: blobPath))
            // An oversized blob is bad input; anything else is an I/O problem.
            if case .tooLarge = error { loaded.status = .inputError } else { loaded.status = .usageOrIOError }
            return loaded
        }
        let decoded = BlobDecoder.decode(bytes, file: blobPath)
        loaded.diagnostics += decoded.diagnostics
        loaded.header = decoded.header
        loaded.policy = decoded.policy
        guard let policy = decoded.policy else {
            loaded.status = .inputError
            return loaded
        }
        if let mapPath {
            do {
                let text = try InputFile.read(mapPath, limit: 64 << 20)
                loaded.sources.add(file: mapPath, contents: text)
                let (map, diagnostics) = MapParser.parse(String(decoding: text, as: UTF8.self), file: mapPath)
                loaded.diagnostics += diagnostics
                loaded.map = map
                if map == nil { loaded.status = .inputError }
            } catch {
                loaded.diagnostics.append(InputFile.diagnostic(for: error, path: mapPath))
                loaded.status = .usageOrIOError
            }
        } else if let policyPath {
            let target = policy.format.target
            let outcome = PolicyCompiler().run(PolicyCompiler.Request(policyPath: policyPath, target: target))
            loaded.diagnostics += outcome.diagnostics
            loaded.sources = outcome.sources
            if let compiled = outcome.compiled {
                loaded.map = compiled.map
                let same = compiled.blob == bytes
                loaded.diagnostics.append(
                    Diagnostic(
                        same ? .note : .warning, same ? "N0001" : "W0404",
                        same
                            ? "'\(blobPath)' is exactly what '\(policyPath)' compiles to for \(target)"
                            : "'\(blobPath)' is not what '\(policyPath)' compiles to for \(target)",
                        at: SourceLocation(file: blobPath)))
            } else {
                loaded.status = outcome.status
            }
        }
        return loaded
    }

    /// Checks decompiled XML as `compile` would for the blob's target, and that it compiles back to
    /// the blob (all of it but the digest of the XML text, which Xen 3.3-4.1 blobs carry); the error
    /// (`E0503`, at the map) if not. A map that fits the blob's counts and ssids can still name labels
    /// inconsistently (a VM label under one name in the Chinese Wall section and another in the STE
    /// section, so that the bootstrap label has the types of one component only: the XML would not
    /// compile) or name only some of them (the XML compiles, to a smaller blob).
    public static func verify(_ output: Decompiler.Output, blob: BinaryPolicy, mapPath: String) -> Diagnostic? {
        let target = blob.format.target
        func refusal(_ reason: String) -> Diagnostic {
            .error(
                "E0503", "the map does not fit the blob: the policy it names \(reason)", at: SourceLocation(file: mapPath),
                hint: "use the map that was written with this blob")
        }
        let reader = XMLReader()
        let schema = PolicyCompiler.schema(for: target)
        let policy = reader.read(bytes: Array(output.policyXML.utf8), path: "<decompiled policy>", schema: schema)
        let template = output.labelTemplateXML.map {
            reader.read(bytes: Array($0.utf8), path: "<decompiled label template>", schema: schema)
        }
        var problems = policy.diagnostics + (template?.diagnostics ?? [])
        var checked: Policy?
        if let document = policy.document, template == nil || template?.document != nil {
            let (model, diagnostics) = PolicyChecker(target: target).check(policy: document, labelTemplate: template?.document)
            checked = model
            problems += diagnostics
        }
        if let first = problems.first(where: { $0.severity == .error }) {
            return refusal("would not compile for \(target) (\(first.message) [\(first.code.rawValue)])")
        }
        guard let checked else { return nil }
        let recompiled = BlobDecoder.decode(PolicyEmitter.compile(checked, for: target).blob, file: "<decompiled policy>").policy
        var expected = blob
        expected.xmlHash = []
        var found = recompiled
        found?.xmlHash = []
        guard found != expected else { return nil }
        return refusal(
            "compiles for \(target) to a different blob (the map leaves out some of its labels or types, or names them inconsistently)")
    }

    /// The XML files recovered from a blob and its map.
    public struct Decompiled: Sendable {
        public var diagnostics: [Diagnostic]
        public var output: Decompiler.Output?
        public var status: ExitStatus
    }

    /// Decompiles a blob with its map; writes the XML atomically when output paths are given.
    public func decompile(blobPath: String, mapPath: String, outputPath: String?, labelTemplateOutputPath: String?) -> Decompiled {
        let loaded = load(blobPath: blobPath, mapPath: mapPath, policyPath: nil)
        var result = Decompiled(diagnostics: loaded.diagnostics, output: nil, status: loaded.status)
        guard loaded.status == .success, let policy = loaded.policy, let map = loaded.map else { return result }
        let (output, diagnostics) = Decompiler.decompile(policy, map: map, file: blobPath)
        result.diagnostics += diagnostics
        guard let output else {
            result.status = .inputError
            return result
        }
        if let refusal = Self.verify(output, blob: policy, mapPath: mapPath) {
            result.diagnostics.append(refusal)
            result.status = .inputError
            return result
        }
        result.output = output
        if policy.format == .g4 {
            result.diagnostics.append(
                Diagnostic(
                    .note, "N0002",
                    "the blob's XML SHA-1 is a digest of the original XML text; recompiling the decompiled XML reproduces every other byte",
                    at: SourceLocation(file: blobPath)))
        }
        var files: [(path: String, bytes: [UInt8])] = []
        if let outputPath { files.append((outputPath, Array(output.policyXML.utf8))) }
        if let labelTemplateOutputPath, let labels = output.labelTemplateXML { files.append((labelTemplateOutputPath, Array(labels.utf8))) }
        do {
            try AtomicFile.write(files)
        } catch {
            result.diagnostics.append(
                .error("E0901", "cannot write '\(error.path)': \(error.reason)", at: SourceLocation(file: error.path)))
            result.status = .usageOrIOError
        }
        return result
    }
}
