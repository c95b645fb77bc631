import PolicyDiagnostics
import ProtocolSyntax

/// Reads `.xpd` files and the libraries they import.
///
/// `import name;` finds `name.xpd` beside the importing file, then in each search directory. Each
/// file is read once however often it is imported; import cycles are harmless.
public struct ProtocolLoader: Sendable {
    /// Extra directories to look for imported libraries in.
    public var searchPaths: [String]
    /// Description files are small; the bound stops a hostile input early.
    public var maximumFileSize = 4 << 20
    /// How many diagnostics the load keeps (it counts the others), as a run reports them.
    public var diagnosticLimit = ProtocolDiagnosticLimit.maximum

    public init(searchPaths: [String] = []) {
        self.searchPaths = searchPaths
    }

    /// What was loaded.
    public struct Loaded: Sendable {
        /// The files given, then imported files, each once.
        public var files: [SourceFile]
        /// How many of `files` were given explicitly (the rest were imported).
        public var givenCount: Int
        public var sources: SourceLines
        /// The diagnostics of reading and parsing, bounded by `diagnosticLimit`.
        public var diagnosticSelection: DiagnosticSelection
        public var hasIOFailure: Bool
        /// Per file of `files`: its comments and declaration extents (for lint suppressions).
        public var trivia: [SourceTrivia] = []

        /// The diagnostics kept, in the order reported.
        public var diagnostics: [Diagnostic] { diagnosticSelection.kept }
    }

    /// Loads `paths` and, transitively, their imports.
    public func load(_ paths: [String]) -> Loaded {
        var loaded = Loaded(
            files: [], givenCount: 0, sources: SourceLines(), diagnosticSelection: DiagnosticSelection(limit: diagnosticLimit),
            hasIOFailure: false)
        var seen: Set<String> = []
        var queue: [(path: String, importedAt: SourceLocation?)] = paths.map { ($0, nil) }
        while !queue.isEmpty {
            let (path, importedAt) = queue.removeFirst()
            guard seen.insert(normalized(path)).inserted else { continue }
            let bytes: [UInt8]
            do {
                bytes = try InputFile.read(path, limit: maximumFileSize)
            } catch {
                var diagnostic = InputFile.diagnostic(for: error, path: path)
                if let importedAt { diagnostic.notes.append(DiagnosticNote("imported here", at: importedAt)) }
                loaded.diagnosticSelection.append(diagnostic)
                if case .tooLarge = error {} else { loaded.hasIOFailure = true }
                continue
            }
            loaded.sources.add(file: path, contents: bytes)
            let parsed = Parser.parse(source: bytes, file: path, diagnosticLimit: diagnosticLimit)
            let file = parsed.file
            loaded.diagnosticSelection.append(contentsOf: parsed.diagnostics)
            loaded.files.append(file)
            loaded.trivia.append(parsed.trivia)
            if importedAt == nil { loaded.givenCount += 1 }
            for name in file.imports {
                if let found = locate(name.name, from: path) {
                    queue.append((found, name.location))
                } else {
                    loaded.diagnosticSelection.append(
                        .error(
                            "E0720",
                            "cannot find library '\(name.name)' (looked for '\(name.name).xpd' beside '\(path)'"
                                + (searchPaths.isEmpty ? ")" : " and in \(searchPaths.joined(separator: ", ")))"),
                            at: name.location, hint: "pass its directory with -I"))
                }
            }
        }
        return loaded
    }

    private func locate(_ name: String, from path: String) -> String? {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        for candidate in [directory] + searchPaths {
            let file = "\(candidate)/\(name).xpd"
            if access(file, F_OK) == 0 { return file }
        }
        return nil
    }

    private func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}

#if canImport(Glibc)
    import Glibc
#endif
