import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax
import Testing

/// Parses and checks inline sources; `files` maps a file name to its text.
func checkProtocols(_ files: [(String, String)]) -> ([ProtocolDefinition], [Diagnostic]) {
    var parsed: [SourceFile] = []
    var diagnostics: [Diagnostic] = []
    for (name, text) in files {
        let (file, syntaxDiagnostics) = Parser.parse(source: Array(text.utf8), file: name)
        parsed.append(file)
        diagnostics += syntaxDiagnostics
    }
    let (definitions, checkDiagnostics) = ProtocolChecker().check(parsed)
    return (definitions, diagnostics + checkDiagnostics)
}

func describe(_ diagnostic: Diagnostic) -> String {
    "\(diagnostic.location): \(diagnostic.severity.rawValue): \(diagnostic.message) [\(diagnostic.code)]"
}

/// The file name inline test descriptions are read as.
let testFile = "t.xpd"

/// A compact xenbus-like library (`xb.xpd`): the states, three parameters, four roles (hotplug is the
/// backend domain), the two directories with the usual ACLs, and the two state keys. A protocol
/// `extends xb { }` with nothing else checks without any diagnostic (no machine: no exploration).
let xenbusLibrary = """
    library xb {
      enum XenbusState { Unknown = 0, Initialising = 1, InitWait = 2, Initialised = 3,
                         Connected = 4, Closing = 5, Closed = 6 }
      type domid = uint [0 .. 65536);
      type u32 = uint [0 .. 4294967296);
      params (fe: domid, be: domid, devid: u32);
      role frontend = domain(fe);
      role backend = domain(be);
      role toolstack = privileged;
      role hotplug = backend;
      dir fe = "/local/domain/{fe}/device/t/{devid}" owner frontend readers backend;
      dir be = "/local/domain/{be}/backend/t/{fe}/{devid}" owner backend readers frontend;
      key fe.state : enum XenbusState init toolstack = Initialising writer frontend;
      key be.state : enum XenbusState init toolstack = Initialising writer backend | toolstack;
      key be/online : "0" | "1" init toolstack = "1" writer toolstack;
      key fe/backend : string init toolstack link be;
      key be/frontend : string init toolstack link fe;
    }
    """

/// Checks `source` (read as `t.xpd`) together with the library.
func checkWithLibrary(_ source: String) -> ([ProtocolDefinition], [Diagnostic]) {
    checkProtocols([("xb.xpd", xenbusLibrary), (testFile, source)])
}

/// The diagnostics of `source` checked with the library.
func diagnose(_ source: String) -> [Diagnostic] { checkWithLibrary(source).1 }

/// `file:line:column severity code`: what the per-code tests compare.
func brief(_ diagnostic: Diagnostic) -> String {
    "\(diagnostic.location) \(diagnostic.severity.rawValue) \(diagnostic.code)"
}

/// Expects that `diagnostics` is exactly one diagnostic with this code and severity at `line:column`
/// of the test file, and returns it for checks of its message and hint.
@discardableResult
func expectSingle(
    _ diagnostics: [Diagnostic], _ code: DiagnosticCode, _ severity: Severity, line: Int, column: Int, file: String = testFile,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
    #expect(
        diagnostics.map(brief) == ["\(file):\(line):\(column) \(severity.rawValue) \(code)"], "\(diagnostics.map(describe))",
        sourceLocation: sourceLocation)
    return try #require(diagnostics.first, sourceLocation: sourceLocation)
}

/// A fresh temporary directory, removed by `body`'s caller when done.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xpd-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Writes `text` to `directory/relativePath`, creating intermediate directories.
@discardableResult
func write(_ text: String, to relativePath: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
    return url.path
}
