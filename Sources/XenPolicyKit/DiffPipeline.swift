import PolicyChecker
import PolicyDiagnostics
import PolicyDiff
import PolicyEmitter
import PolicyModel
import PolicyReader
import PolicyTools
import RuleTable

/// The pipeline behind `xen-policy diff`: load each side (policy XML of any generation, a blob with
/// its `.map`, from a file or from git as `REV:PATH`), then compare them with `PolicyDiffer`.
public struct DiffPipeline: Sendable {
    /// What to compare.
    public struct Request: Sendable {
        /// OLD and NEW as the user wrote them: `PATH`, `REV:PATH`, or `POLICY+LABELS` (Xen 3.0.2).
        public var old: String
        public var new: String
        /// The target for ssidrefs and rules; nil for the newer generation of the two inputs.
        public var target: Target?

        public init(old: String, new: String, target: Target? = nil) {
            self.old = old
            self.new = new
            self.target = target
        }
    }

    /// What happened.
    public struct Outcome: Sendable {
        /// Problems loading the inputs (the report carries its own findings).
        public var diagnostics: [Diagnostic]
        /// The inputs' text, for excerpts under diagnostics.
        public var sources: SourceLines
        public var report: PolicyDiffReport?
        public var status: ExitStatus
    }

    public init() {}

    /// Loads both sides and compares them; no report if either side cannot be loaded.
    public func run(_ request: Request) -> Outcome {
        var outcome = Outcome(diagnostics: [], sources: SourceLines(), report: nil, status: .success)
        let oldIsProtocol = Self.isProtocol(request.old)
        let newIsProtocol = Self.isProtocol(request.new)
        if oldIsProtocol != newIsProtocol {
            let (policy, description) = oldIsProtocol ? (request.new, request.old) : (request.old, request.new)
            fail(
                .error(
                    "E0602", "cannot compare a policy with a protocol description: '\(policy)' and '\(description)'",
                    at: SourceLocation(file: description),
                    hint: "give two policies (XML, or blobs with their .map), or two protocol descriptions (.xpd) or rule tables (.xsrt)"),
                status: .usageOrIOError, into: &outcome)
            return outcome
        }
        if oldIsProtocol {
            let old = loadProtocol(request.old, into: &outcome)
            let new = loadProtocol(request.new, into: &outcome)
            guard let old, let new else { return outcome }
            outcome.report = ProtocolDiffer().diff(old: old, new: new)
            return outcome
        }
        let old = load(request.old, into: &outcome)
        let new = load(request.new, into: &outcome)
        guard let old, let new else { return outcome }
        let target = request.target ?? Self.newer(old.generation, new.generation)
        outcome.report = PolicyDiffer(target: target).diff(old: old, new: new)
        return outcome
    }

    /// The later of two targets.
    static func newer(_ a: Target, _ b: Target) -> Target {
        Target.allCases.firstIndex(of: a)! >= Target.allCases.firstIndex(of: b)! ? a : b
    }

    // MARK: Loading one side

    /// Whether an argument (`PATH` or `REV:PATH`) names a protocol description or a rule table.
    static func isProtocol(_ argument: String) -> Bool {
        argument.hasSuffix(".xpd") || isRuleTable(argument)
    }

    /// Whether an argument names a compiled rule table.
    static func isRuleTable(_ argument: String) -> Bool {
        argument.hasSuffix(".xsrt")
    }

    /// Loads a rule table: the protocols compiled into it, as `replay` would use them. A table keeps
    /// no guard texts, so a changed guard shows as `?` on its side.
    func loadRuleTable(_ argument: String, into outcome: inout Outcome) -> ProtocolDiffer.Input? {
        let source = DiffSource.parse(argument)
        guard let bytes = read(source, limit: RuleTablePipeline.maximumTableSize, into: &outcome) else { return nil }
        let (table, diagnostics) = RuleTableDecoder.decode(bytes, file: argument)
        outcome.diagnostics += diagnostics
        guard let table else {
            outcome.status = Self.worse(outcome.status, .usageOrIOError)
            return nil
        }
        return ProtocolDiffer.Input(definitions: table.protocols, displayName: source.displayName, isRuleTable: true)
    }

    /// Loads and checks a protocol description. A file is checked where it is; `REV:PATH` is read
    /// from git into a temporary file, and its imports are found beside PATH in the working tree
    /// (relative to the current directory), not at REV.
    func loadProtocol(_ argument: String, into outcome: inout Outcome) -> ProtocolDiffer.Input? {
        if Self.isRuleTable(argument) { return loadRuleTable(argument, into: &outcome) }
        let source = DiffSource.parse(argument)
        let checked: ProtocolPipeline.Checked
        var aliases: [String: String] = [:]
        var gitBytes: [UInt8]? = nil
        switch source {
        case .file(let path):
            checked = ProtocolPipeline().check([path])
        case .git(_, let path):
            guard let bytes = read(source, limit: 4 << 20, into: &outcome) else { return nil }
            let directory: String
            do {
                directory = try TemporaryDirectory.create(prefix: "xen-policy-diff")
                try AtomicFile.write([(directory + "/" + Self.lastComponent(of: path), bytes)])
            } catch {
                fail(
                    .error(
                        "E0601", "cannot copy '\(argument)' to a temporary file: \(error.reason)",
                        at: SourceLocation(file: argument)),
                    status: .usageOrIOError, into: &outcome)
                return nil
            }
            let file = directory + "/" + Self.lastComponent(of: path)
            defer { TemporaryDirectory.remove(directory, file: file) }
            gitBytes = bytes
            let beside = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            checked = ProtocolPipeline(searchPaths: [beside.isEmpty ? "/" : beside]).check([file])
            aliases[file] = argument
        }
        var diagnostics = checked.diagnostics
        for index in diagnostics.indices {
            if let alias = aliases[diagnostics[index].location.file] { diagnostics[index].location.file = alias }
        }
        outcome.diagnostics += diagnostics
        outcome.sources.merge(checked.sources)
        if let gitBytes { outcome.sources.add(file: argument, contents: gitBytes) }
        guard checked.status == .success else {
            outcome.status = Self.worse(outcome.status, checked.status)
            return nil
        }
        return ProtocolDiffer.Input(
            definitions: checked.definitions, guardTexts: checked.guardTexts, displayName: source.displayName, fileAliases: aliases)
    }

    /// Loads one side; nil (with diagnostics and status in `outcome`) on failure.
    func load(_ argument: String, into outcome: inout Outcome) -> PolicyDiffer.Input? {
        var labelTemplate: DiffSource? = nil
        let source: DiffSource
        // POLICY+LABELS: split after `.xml+`, so that a `+` in a git revision or a file name is left alone.
        if !DiffSource.isFile(argument), let separator = argument.firstRange(of: ".xml+") {
            let plus = argument.index(before: separator.upperBound)
            source = DiffSource.parse(String(argument[..<plus]))
            labelTemplate = DiffSource.parse(String(argument[separator.upperBound...]))
        } else {
            source = DiffSource.parse(argument)
        }
        guard let bytes = read(source, limit: BlobPipelines.maximumBlobSize, into: &outcome) else { return nil }
        if BlobDecoder.looksLikeBlob(bytes) {
            return loadBlob(bytes, source: source, into: &outcome)
        }
        return loadPolicy(bytes, source: source, labelTemplate: labelTemplate, into: &outcome)
    }

    /// Reads policy XML of whichever generation's schema accepts it, newest first.
    private func loadPolicy(_ bytes: [UInt8], source: DiffSource, labelTemplate: DiffSource?, into outcome: inout Outcome)
        -> PolicyDiffer.Input?
    {
        let name = source.displayName
        outcome.sources.add(file: name, contents: bytes)
        let reader = XMLReader()
        var firstAttempt: XMLReader.Result? = nil
        var found: (target: Target, document: XMLDocument)? = nil
        // One target per schema, newest first: xen-3.2 and xen-4.1 share the G3b schema.
        for target in [Target.xen41, .xen31, .xen304, .xen302] {
            let read = reader.read(bytes: bytes, path: name, schema: PolicyCompiler.schema(for: target))
            if firstAttempt == nil { firstAttempt = read }
            if let document = read.document {
                found = (target, document)
                break
            }
            // A file that is not even well-formed XML fails every schema the same way.
            if read.diagnostics.contains(where: { $0.code != "E0010" }) { break }
        }
        guard let found else {
            var diagnostics = firstAttempt?.diagnostics ?? []
            if let first = diagnostics.firstIndex(where: { $0.code == "E0010" }) {
                diagnostics[first].notes.append(
                    DiagnosticNote("the file matches no generation's schema (tried xen-4.1, xen-3.1, xen-3.0.4, xen-3.0.2)"))
            }
            outcome.diagnostics += diagnostics
            outcome.status = Self.worse(outcome.status, .inputError)
            return nil
        }
        var templateDocument: XMLDocument? = nil
        // A label template given alone passes the G1 schema too; the checker then says what it is (E0011).
        if found.target == .xen302, found.document.root.localName == "SecurityPolicyDefinition" {
            guard let templateSource = labelTemplate ?? source.labelTemplateCompanion() else {
                fail(
                    .error(
                        "E0604", "'\(name)' is a Xen 3.0.2 policy, which needs its label template file", at: SourceLocation(file: name),
                        hint: "name the files STEM-security_policy.xml and STEM-security_label_template.xml, or write POLICY+LABELS"),
                    status: .usageOrIOError, into: &outcome)
                return nil
            }
            let templateBytes: [UInt8]
            do {
                templateBytes = try templateSource.read(limit: reader.maximumInputSize)
            } catch {
                var diagnostic = error.diagnostic
                if labelTemplate == nil {
                    diagnostic = .error(
                        "E0604", "'\(name)' is a Xen 3.0.2 policy, and its label template '\(templateSource.displayName)' cannot be read",
                        at: SourceLocation(file: name), hint: "put the label template beside it, or write POLICY+LABELS",
                        notes: [DiagnosticNote(error.diagnostic.message)])
                }
                fail(diagnostic, status: error.status, into: &outcome)
                return nil
            }
            outcome.sources.add(file: templateSource.displayName, contents: templateBytes)
            let read = reader.read(bytes: templateBytes, path: templateSource.displayName, schema: .g1)
            guard let document = read.document else {
                outcome.diagnostics += read.diagnostics
                outcome.status = Self.worse(outcome.status, .inputError)
                return nil
            }
            templateDocument = document
        }
        let (policy, checked) = PolicyChecker(target: found.target).check(policy: found.document, labelTemplate: templateDocument)
        var diagnostics = checked
        // The checker's hint names compile's --label-template; diff takes the two files as one input.
        for index in diagnostics.indices where diagnostics[index].code == "E0011" && found.target == .xen302 {
            diagnostics[index].notes.append(DiagnosticNote("xen-policy diff takes a Xen 3.0.2 policy as POLICY+LABELS"))
        }
        outcome.diagnostics += diagnostics
        guard let policy else {
            outcome.status = Self.worse(outcome.status, .inputError)
            return nil
        }
        return PolicyDiffer.Input(policy: policy, displayName: name, generation: found.target)
    }

    /// Decodes a blob and names its labels and types from the `.map` beside it.
    private func loadBlob(_ bytes: [UInt8], source: DiffSource, into outcome: inout Outcome) -> PolicyDiffer.Input? {
        let name = source.displayName
        let decoded = BlobDecoder.decode(bytes, file: name)
        outcome.diagnostics += decoded.diagnostics
        guard let blob = decoded.policy else {
            outcome.status = Self.worse(outcome.status, .inputError)
            return nil
        }
        let mapSource = source.mapCompanion()
        let mapBytes: [UInt8]
        do {
            mapBytes = try mapSource.read(limit: 64 << 20)
        } catch {
            fail(
                .error(
                    "E0603", "the blob '\(name)' needs its label map '\(mapSource.displayName)', which cannot be read",
                    at: SourceLocation(file: name), hint: "put the .map written with the blob beside it, with the same stem",
                    notes: [DiagnosticNote(error.diagnostic.message)]),
                status: error.status, into: &outcome)
            return nil
        }
        outcome.sources.add(file: mapSource.displayName, contents: mapBytes)
        let (map, mapDiagnostics) = MapParser.parse(String(decoding: mapBytes, as: UTF8.self), file: mapSource.displayName)
        outcome.diagnostics += mapDiagnostics
        guard let map else {
            outcome.status = Self.worse(outcome.status, .inputError)
            return nil
        }
        var diagnostics: [Diagnostic] = []
        let policy = Decompiler.reconstruct(blob, map: map, file: name, diagnostics: &diagnostics)
        outcome.diagnostics += diagnostics
        guard let policy, !diagnostics.contains(where: { $0.severity == .error }) else {
            outcome.status = Self.worse(outcome.status, .inputError)
            return nil
        }
        return PolicyDiffer.Input(policy: policy, displayName: name, generation: blob.format.target, isBlob: true)
    }

    /// The bytes of `source`, at most `limit`; nil (with the diagnostic in `outcome`) when they cannot be read.
    private func read(_ source: DiffSource, limit: Int, into outcome: inout Outcome) -> [UInt8]? {
        do {
            return try source.read(limit: limit)
        } catch {
            fail(error.diagnostic, status: error.status, into: &outcome)
            return nil
        }
    }

    private func fail(_ diagnostic: Diagnostic, status: ExitStatus, into outcome: inout Outcome) {
        outcome.diagnostics.append(diagnostic)
        outcome.status = Self.worse(outcome.status, status)
    }

    private static func worse(_ a: ExitStatus, _ b: ExitStatus) -> ExitStatus {
        a.rawValue >= b.rawValue ? a : b
    }
}

extension BlobDecoder {
    /// Whether `bytes` start like an ACM blob: the magic `0x0001debc` at offset 0 (Xen 3.2+) or 4.
    static func looksLikeBlob(_ bytes: [UInt8]) -> Bool {
        let magic: [UInt8] = [0x00, 0x01, 0xDE, 0xBC]
        return bytes.starts(with: magic) || (bytes.count >= 8 && Array(bytes[4..<8]) == magic)
    }
}

extension DiffPipeline {
    /// The file name at the end of `path`.
    static func lastComponent(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}
