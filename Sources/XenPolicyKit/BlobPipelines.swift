import PolicyChecker
import PolicyDiagnostics
import PolicyEmitter
import PolicyModel
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
