import FuzzSupport
import ProtocolChecker
import ProtocolSyntax
import RuleTable
import XenstoreTrace

/// Bytes -> the protocol description (`.xpd`) front end: lexer and recovering parser, then the
/// checker (names, types, static analysis) as `compile --rules` runs it. `import NAME;` resolves to
/// the shipped descriptions in `Examples/protocols`, parsed once.
///
/// A description that checks without errors is compiled on as `compile --rules` does: the rule table
/// it encodes to must decode to itself (a table the compiler writes and `replay` refuses is a bug),
/// and a shipped trace is replayed against it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parsed = Parser.parse(source: bytes, file: "fuzz.xpd", diagnosticLimit: ProtocolDiagnosticLimit.maximum)
    var files = [parsed.file]
    var seen: Set<String> = []
    for name in parsed.file.imports where seen.insert(name.name).inserted {
        if let library = FuzzSupport.libraries[name.name] { files.append(library) }
    }
    let checked = ProtocolChecker().checkDetailed(files, only: ["fuzz.xpd"])
    FuzzSupport.blackHole(checked.definitions.count + checked.diagnostics.count)
    guard !parsed.diagnostics.hasErrors, !checked.diagnostics.contains(where: { $0.severity == .error }) else { return 0 }
    let table = CompiledRuleTable(protocols: checked.definitions)
    let (decoded, diagnostics) = RuleTableDecoder.decode(RuleTableEncoder.encode(table), file: "fuzz.xsrt")
    if decoded != table { fatalError("the compiled table does not decode to itself: \(diagnostics)") }
    let reader = TraceReader(bytes: FuzzSupport.sampleTrace, options: TraceReader.Options(fileName: "vbd-connect.log"))
    FuzzSupport.replay(reader, protocols: table.protocols, admissions: [], readAhead: false)
    return 0
}
