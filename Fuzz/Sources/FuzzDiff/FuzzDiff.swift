import FuzzSupport
import PolicyDiagnostics
import PolicyDiff
import PolicyModel
import RuleTable
import XenPolicyKit

/// Bytes -> what `xen-policy diff OLD NEW` runs on them, through `DiffPipeline`. The input is split
/// at `FuzzSupport.separator` into OLD and NEW (without one, NEW is OLD); each is written to a file
/// named by what it looks like: `.xsrt` for a rule table (its header's length and CRC-32 rewritten
/// to match, else nearly every mutation stops at `E0874`), `.xml` for text starting with `<`, `.xpd`
/// otherwise (imports found beside it, where the shipped descriptions are copied). So two policies of any generation, or two protocol
/// descriptions or rule tables in any mix, are loaded, checked and compared; the report is rendered
/// as text, JSON and Markdown. A policy pair is compared again for a target picked by the input's
/// size (`--target`).
///
/// OLD compared with itself must show no change: a policy or description is its own update.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard librariesInstalled else { return 0 }
    let (first, second) = FuzzSupport.split(bytes)
    let old = file(first, name: "old")
    let new = second.map { file($0, name: "new") } ?? old

    let outcome = diff(old, new, target: nil)
    if let report = outcome.report, !report.isProtocol {
        let target = Target.allCases[size % Target.allCases.count]
        _ = diff(old, new, target: target)
    }
    let itself = new == old ? outcome : diff(old, old, target: nil)
    if let report = itself.report, report.hasChanges {
        fatalError("a side compared with itself shows changes: \(DiffTextRenderer().render(report))")
    }
    return 0
}

/// The shipped descriptions, copied beside OLD and NEW: `diff` finds the libraries a description
/// imports beside it.
let librariesInstalled: Bool = {
    for path in FuzzSupport.protocolPaths {
        guard let bytes = try? InputFile.read(path, limit: 4 << 20) else { fatalError("fuzz: cannot read \(path)") }
        _ = FuzzSupport.write(bytes, name: String(path.split(separator: "/").last!))
    }
    return true
}()

/// Runs the pipeline and renders what it gives, as `xen-policy diff` does in each format.
func diff(_ old: String, _ new: String, target: Target?) -> DiffPipeline.Outcome {
    let outcome = DiffPipeline().run(DiffPipeline.Request(old: old, new: new, target: target))
    FuzzSupport.blackHole(TextDiagnosticRenderer(colored: true, sources: outcome.sources).render(outcome.diagnostics))
    if let report = outcome.report {
        FuzzSupport.blackHole(DiffTextRenderer().render(report))
        FuzzSupport.blackHole(DiffJSONRenderer().render(report, inputDiagnostics: outcome.diagnostics))
        FuzzSupport.blackHole(DiffMarkdownRenderer().render(report))
        FuzzSupport.blackHole(TextDiagnosticRenderer(colored: false, sources: outcome.sources).render(report.diagnostics))
        FuzzSupport.blackHole(report.widensAccess)
    }
    return outcome
}

/// Writes one side to a file whose extension says what it looks like, and returns its path.
func file(_ bytes: [UInt8], name: String) -> String {
    if RuleTableDecoder.hasMagic(bytes) {
        var fixed = bytes
        if fixed.count >= RuleTableFormat.headerSize {
            let length = UInt32(truncatingIfNeeded: fixed.count)
            for index in 0..<4 { fixed[8 + index] = UInt8(truncatingIfNeeded: length >> UInt32(8 * index)) }
            let checksum = RuleTableFormat.checksum(fixed)
            for index in 0..<4 { fixed[12 + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(8 * index)) }
        }
        return FuzzSupport.write(fixed, name: name + ".xsrt")
    }
    let text = bytes.drop { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
    return FuzzSupport.write(bytes, name: name + (text.first == UInt8(ascii: "<") ? ".xml" : ".xpd"))
}
