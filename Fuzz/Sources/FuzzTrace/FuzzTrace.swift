import FuzzSupport
import ProtocolReplay
import XenstoreTrace

/// Trace bytes -> the trace reader, with the format detected from the first line (as `replay` does,
/// reading ahead on a second thread) and then forced to each format (oxenstored access log,
/// cxenstored trace, JSON lines) -> one replay engine, with the rule table of every shipped protocol
/// description bound to xm-test.xml, replaying the four readings one after the other.
///
/// One engine for the four: building one (compiling the protocols) costs more than replaying a
/// small input, and the engine takes several traces before `finish()`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let rules = FuzzSupport.rules
    let engine = ReplayEngine(
        protocols: rules.protocols, options: ReplayEngine.Options(labels: FuzzSupport.labels, admissions: rules.admissions))
    for format in [nil] + TraceFormat.allCases.map(Optional.some) {
        let reader = TraceReader(bytes: bytes, options: TraceReader.Options(format: format, fileName: "fuzz.trace"))
        engine.replay(reader, readAhead: format == nil)
        FuzzSupport.blackHole(reader.diagnostics.count + reader.statistics.events)
    }
    engine.finish()
    FuzzSupport.blackHole(engine.findings.count + engine.violationCount)
    return 0
}
