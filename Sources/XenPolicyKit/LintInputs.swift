import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#endif

/// One thing to lint: a policy file (with its Xen 3.0.2 label template), or a protocol description.
public struct LintInput: Hashable, Sendable {
    public enum Kind: Sendable {
        /// ACM policy XML of any generation.
        case policy
        /// An `.xpd` protocol description.
        case protocolDescription
    }

    public var kind: Kind
    public var path: String
    /// The Xen 3.0.2 label template found beside a `<stem>-security_policy.xml`.
    public var labelTemplatePath: String?

    public init(kind: Kind = .policy, path: String, labelTemplatePath: String? = nil) {
        self.kind = kind
        self.path = path
        self.labelTemplatePath = labelTemplatePath
    }

    /// The G1 file name suffixes that pair a policy with its label template.
    static let policySuffix = "-security_policy.xml"
    static let templateSuffix = "-security_label_template.xml"

    /// Expands the command line's paths: a file as given (paired with its G1 partner if that exists),
    /// a directory as the `*.xml` and `*.xpd` files below it (hidden entries and symbolic links to
    /// directories are skipped), each input once, in the order given and sorted within each directory.
    ///
    /// - Returns: the inputs, and an E0001 error for each path that does not exist or cannot be read.
    public static func expand(_ paths: [String]) -> (inputs: [LintInput], diagnostics: [Diagnostic]) {
        var inputs: [LintInput] = []
        var seen: Set<String> = []
        var diagnostics: [Diagnostic] = []
        func add(_ input: LintInput) {
            guard seen.insert(input.path).inserted else { return }
            if let template = input.labelTemplatePath { seen.insert(template) }
            inputs.append(input)
        }
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                diagnostics.append(InputFile.diagnostic(for: .cannotOpen(String(cString: strerror(errno))), path: path))
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                var files: [String] = []
                guard collect(directory: path, into: &files) else {
                    diagnostics.append(InputFile.diagnostic(for: .cannotOpen(String(cString: strerror(errno))), path: path))
                    continue
                }
                let present = Set(files)
                for file in files {
                    if file.hasSuffix(templateSuffix), present.contains(partner(of: file)) { continue }
                    add(pairing(file, exists: { present.contains($0) }))
                }
            } else {
                add(pairing(path, exists: isRegularFile))
            }
        }
        return (inputs, diagnostics)
    }

    /// The input for one file, with its G1 partner when that exists.
    private static func pairing(_ path: String, exists: (String) -> Bool) -> LintInput {
        if path.hasSuffix(".xpd") { return LintInput(kind: .protocolDescription, path: path) }
        let other = partner(of: path)
        guard other != path, exists(other) else { return LintInput(path: path) }
        return path.hasSuffix(templateSuffix)
            ? LintInput(path: other, labelTemplatePath: path) : LintInput(path: path, labelTemplatePath: other)
    }

    /// `x-security_policy.xml` <-> `x-security_label_template.xml`; other names map to themselves.
    private static func partner(of path: String) -> String {
        if path.hasSuffix(policySuffix) { return String(path.dropLast(policySuffix.count)) + templateSuffix }
        if path.hasSuffix(templateSuffix) { return String(path.dropLast(templateSuffix.count)) + policySuffix }
        return path
    }

    /// Policies and protocol descriptions, by name.
    private static func isLintable(_ name: String) -> Bool { name.hasSuffix(".xml") || name.hasSuffix(".xpd") }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The `*.xml` and `*.xpd` files below `directory`, depth first, sorted by name at each level.
    private static func collect(directory: String, into files: inout [String]) -> Bool {
        guard let handle = opendir(directory) else { return false }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // Hidden entries (.git, .build, editor files) are not policies someone asked to lint.
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(handle)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for name in names.sorted() {
            let path = base + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                _ = collect(directory: path, into: &files)
            case S_IFLNK:
                // Follow links to files but not to directories, which could loop.
                if isLintable(name), isRegularFile(path) { files.append(path) }
            case S_IFREG:
                if isLintable(name) { files.append(path) }
            default:
                break
            }
        }
        return true
    }
}
