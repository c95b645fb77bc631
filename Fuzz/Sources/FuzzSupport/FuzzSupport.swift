import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolReplay
import ProtocolSyntax
import XenPolicyKit
import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the harnesses share: where the repository is, and the rules they replay traces against.
public enum FuzzSupport {
    /// The repository root: `XEN_POLICY_ROOT`, or the checkout this file was compiled from.
    public static let root: String = {
        if let value = getenv("XEN_POLICY_ROOT") { return String(cString: value) }
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        // <root>/Fuzz/Sources/FuzzSupport/FuzzSupport.swift
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    /// The shipped protocol descriptions, `Examples/protocols/*.xpd`, sorted.
    public static let protocolPaths: [String] = {
        let directory = root + "/Examples/protocols"
        guard let handle = opendir(directory) else { fatalError("fuzz: cannot list \(directory)") }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".xpd") { names.append(directory + "/" + name) }
        }
        return names.sorted()
    }()

    /// The shipped protocol descriptions, parsed once (the protocol harness resolves imports with them).
    public static let libraries: [String: SourceFile] = {
        var files: [String: SourceFile] = [:]
        for path in protocolPaths {
            guard let bytes = try? InputFile.read(path, limit: 4 << 20) else { fatalError("fuzz: cannot read \(path)") }
            let name = String(path.split(separator: "/").last!.dropLast(4))
            files[name] = Parser.parse(source: bytes, file: path).0
        }
        return files
    }()

    /// The rules traces are replayed against: every shipped protocol description compiled into one
    /// rule table bound to `Examples/policies/xm-test.xml` (so that label admissions are checked too),
    /// then loaded the way `xen-policy replay --rules` loads it. Built once, on first use.
    public static let rules: (protocols: [ProtocolDefinition], admissions: [ReplayEngine.Admission]) = {
        let directory = "/tmp/xen-policy-fuzz-\(getpid())"
        mkdir(directory, 0o700)
        let table = directory + "/all.xsrt"
        let compiled = PolicyCompiler().run(
            PolicyCompiler.Request(
                policyPath: root + "/Examples/policies/xm-test.xml", target: .xen41, outputPath: directory + "/xm-test.bin",
                protocolPaths: protocolPaths, rulesPath: table))
        guard compiled.status == .success else { fatalError("fuzz: cannot compile the rules: \(compiled.diagnostics)") }
        let loaded = ReplayPipeline().loadRules([table])
        guard loaded.status == .success else { fatalError("fuzz: cannot load the rules: \(loaded.diagnostics)") }
        unlink(table)
        unlink(directory + "/xm-test.bin")
        rmdir(directory)
        return (loaded.protocols, loaded.admissions)
    }()

    /// Labels of a few domains (those of xm-test.xml), so that admission rules are exercised.
    public static let labels: [Int: String] = [0: "SystemManagement", 1: "green", 2: "red", 3: "blue", 5: "green"]

    /// A shipped trace, to replay against rule tables the rule table harness decodes.
    public static let sampleTrace: [UInt8] = {
        let path = root + "/Examples/traces/vbd-connect.log"
        guard let bytes = try? InputFile.read(path, limit: 1 << 20) else { fatalError("fuzz: cannot read \(path)") }
        return bytes
    }()

    /// Replays `reader` as `ReplayPipeline.run` does, and discards what it found.
    public static func replay(
        _ reader: TraceReader, protocols: [ProtocolDefinition], admissions: [ReplayEngine.Admission], readAhead: Bool
    ) {
        let engine = ReplayEngine(protocols: protocols, options: ReplayEngine.Options(labels: labels, admissions: admissions))
        engine.replay(reader, readAhead: readAhead)
        engine.finish()
        blackHole(engine.findings.count + reader.diagnostics.count + engine.violationCount)
    }

    /// What separates the two inputs of a harness that takes two (diff's OLD and NEW, a Xen 3.0.2
    /// policy and its label template): a line no policy, description or rule table has.
    public static let separator: [UInt8] = Array("\n--8<--\n".utf8)

    /// `bytes` split at the first separator: the part before it, and the part after it (nil without one).
    public static func split(_ bytes: [UInt8]) -> (first: [UInt8], second: [UInt8]?) {
        guard bytes.count >= separator.count else { return (bytes, nil) }
        for start in 0...(bytes.count - separator.count) where bytes[start] == separator[0] {
            if bytes[start..<start + separator.count].elementsEqual(separator) {
                return (Array(bytes[..<start]), Array(bytes[(start + separator.count)...]))
            }
        }
        return (bytes, nil)
    }

    /// A directory of this process's own under `/tmp`, for the harnesses that give the pipelines
    /// files (as the command line does) instead of bytes. Made on first use, removed at exit.
    public static let scratchDirectory: String = {
        var template = Array("/tmp/xen-policy-fuzz-files.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            fatalError("fuzz: cannot make a scratch directory")
        }
        // Removed when the process exits normally (a run ends with exit()); after a crash libFuzzer ends
        // with _Exit() and the directory stays, with the files of the input.
        atexit {
            let directory = FuzzSupport.scratchDirectory
            var names: [String] = []
            if let handle = opendir(directory) {
                while let entry = readdir(handle) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(handle)
            }
            for name in names { unlink(directory + "/" + name) }
            rmdir(directory)
        }
        return String(cString: made)
    }()

    /// Writes `bytes` to `name` in the scratch directory, replacing it, and returns its path.
    public static func write(_ bytes: [UInt8], name: String) -> String {
        let path = scratchDirectory + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { fatalError("fuzz: cannot write \(path)") }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { fatalError("fuzz: cannot write \(path)") }
            written += count
        }
        return path
    }

    /// Keeps a result alive so the work that made it is not optimised away.
    @inline(never)
    public static func blackHole<T>(_ value: T) {
        withExtendedLifetime(value) {}
    }
}
