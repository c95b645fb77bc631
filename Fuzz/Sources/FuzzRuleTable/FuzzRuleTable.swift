import FuzzSupport
import ProtocolReplay
import RuleTable
import XenstoreTrace

/// Bytes -> the rule table (`.xsrt`) decoder -> its dump (text and JSON, as `inspect TABLE.xsrt`
/// prints it) -> for a table the decoder accepts, a replay of a shipped trace against it: a table
/// that decodes without errors must be safe to replay, and must re-encode to a table that decodes to
/// itself (the property `Tests/RuleTableTests/FuzzTests.swift` checks on random bytes).
///
/// The input is decoded as it is, then (if it differs) with the header's length and CRC-32 rewritten
/// to match: a mutation almost never keeps the checksum right, and the sections behind it are where
/// the decoding is.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    probe(bytes)
    if bytes.count >= RuleTableFormat.headerSize {
        var fixed = bytes
        let length = UInt32(truncatingIfNeeded: fixed.count)
        for index in 0..<4 { fixed[8 + index] = UInt8(truncatingIfNeeded: length >> UInt32(8 * index)) }
        let checksum = RuleTableFormat.checksum(fixed)
        for index in 0..<4 { fixed[12 + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(8 * index)) }
        if fixed != bytes { probe(fixed) }
    }
    return 0
}

func probe(_ bytes: [UInt8]) {
    let result = RuleTableDecoder.decodeWithLayout(bytes, file: "fuzz.xsrt")
    guard let layout = result.layout, let table = result.table else { return }
    let dumper = RuleTableDumper(file: "fuzz.xsrt", layout: layout, table: table)
    FuzzSupport.blackHole(dumper.text())
    FuzzSupport.blackHole(dumper.json(diagnostics: result.diagnostics).rendered())
    let again = RuleTableDecoder.decode(RuleTableEncoder.encode(table), file: "again.xsrt").0
    if again != table { fatalError("an accepted table does not survive re-encoding") }
    let admissions = table.admissions.map { admission in
        ReplayEngine.Admission(
            protocolIndex: admission.protocolIndex, firstRole: admission.frontendRole, secondRole: admission.backendRole,
            pairs: admission.pairs.map { ($0.frontend, $0.backend) }, origin: admission.origins.first)
    }
    let reader = TraceReader(bytes: FuzzSupport.sampleTrace, options: TraceReader.Options(fileName: "vbd-connect.log"))
    FuzzSupport.replay(reader, protocols: table.protocols, admissions: admissions, readAhead: false)
}
