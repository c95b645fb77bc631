import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where one input of `diff` comes from: a file, or a file at a git revision (`REV:PATH`).
///
/// A path that exists as a file always wins over the `REV:PATH` reading, so a file whose name
/// contains `:` can still be compared.
enum DiffSource: Equatable {
    case file(String)
    /// `git show REV:PATH`, run in the current directory (the path is relative to the repository
    /// root, or to the current directory when written `REV:./PATH`, as git defines it).
    case git(revision: String, path: String)

    /// Why an input could not be read.
    struct Failure: Error {
        var diagnostic: Diagnostic
        var status: ExitStatus
    }

    /// Reads `argument` as a file if it exists, else as `REV:PATH` if it has a `:`, else as a file.
    static func parse(_ argument: String) -> DiffSource {
        if isFile(argument) { return .file(argument) }
        if let colon = argument.firstIndex(of: ":") {
            return .git(revision: String(argument[..<colon]), path: String(argument[argument.index(after: colon)...]))
        }
        return .file(argument)
    }

    /// Whether something exists at `path` in the file system.
    static func isFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    /// The input as the user wrote it; used in locations and headings.
    var displayName: String {
        switch self {
        case .file(let path): path
        case .git(let revision, let path): "\(revision):\(path)"
        }
    }

    private var path: String {
        switch self {
        case .file(let path), .git(_, let path): path
        }
    }

    /// The same kind of source for another path.
    private func sibling(_ path: String) -> DiffSource {
        switch self {
        case .file: .file(path)
        case .git(let revision, _): .git(revision: revision, path: path)
        }
    }

    /// The `.map` beside a blob: the same stem with the extension `.map`.
    func mapCompanion() -> DiffSource {
        let path = self.path
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let stem = path[slash...].lastIndex(of: ".").map { String(path[..<$0]) } ?? path
        return sibling(stem + ".map")
    }

    /// The label template beside a Xen 3.0.2 policy `STEM-security_policy.xml`:
    /// `STEM-security_label_template.xml` (the names Xen's tools gave the two files).
    func labelTemplateCompanion() -> DiffSource? {
        let suffix = "-security_policy.xml"
        guard path.hasSuffix(suffix) else { return nil }
        return sibling(String(path.dropLast(suffix.count)) + "-security_label_template.xml")
    }

    /// The contents, at most `limit` bytes.
    func read(limit: Int) throws(Failure) -> [UInt8] {
        switch self {
        case .file(let path):
            do {
                return try InputFile.read(path, limit: limit)
            } catch {
                let status: ExitStatus = if case .tooLarge = error { .inputError } else { .usageOrIOError }
                throw Failure(diagnostic: InputFile.diagnostic(for: error, path: path), status: status)
            }
        case .git(let revision, let path):
            return try Self.gitShow(revision: revision, path: path, limit: limit)
        }
    }

    /// `git show REV:PATH`.
    private static func gitShow(revision: String, path: String, limit: Int) throws(Failure) -> [UInt8] {
        let name = "\(revision):\(path)"
        let location = SourceLocation(file: name)
        func failure(_ message: String, hint: String? = nil) -> Failure {
            Failure(diagnostic: .error("E0601", message, at: location, hint: hint), status: .usageOrIOError)
        }
        // A revision starting with '-' would be read by git as an option (`--output=...` writes files).
        guard !revision.hasPrefix("-") else {
            throw failure("'\(name)' is not a file, and '\(revision)' is not a git revision")
        }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(["git", "show", name], outputLimit: limit)
        } catch {
            throw failure("cannot run git to read '\(name)': \(error.reason)")
        }
        if result.outputTruncated {
            throw Failure(
                diagnostic: .error(
                    "E0002", "'\(name)' is more than the limit of \(limit) bytes", at: location,
                    hint: "inputs are bounded so that a hostile file cannot exhaust memory"),
                status: .inputError)
        }
        guard result.status == 0 else {
            let message =
                String(decoding: result.errors, as: UTF8.self).split(separator: "\n").first.map(String.init)
                ?? "git exited with status \(result.status)"
            throw failure(
                "'\(name)' is not a file, and git cannot read it: \(message)",
                hint: "REV:PATH names PATH relative to the repository root (or REV:./PATH relative to this directory)")
        }
        return result.output
    }
}
