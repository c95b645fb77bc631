import FuzzSupport
import PolicyDiagnostics
import PolicyEmitter
import PolicyTools
import XenPolicyKit

/// Bytes -> the label map (`.map`) reader -> with each conformance blob (decoded once), `inspect
/// --map`'s text and JSON reports and `decompile`, with the check `decompile` makes of the XML
/// before writing it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (map, _) = MapParser.parse(text, file: "fuzz.map")
    guard let map else { return 0 }
    for blob in blobs {
        let inspector = BlobInspector(file: "fuzz.bin", header: blob.header, policy: blob.policy, map: map)
        FuzzSupport.blackHole(inspector.text())
        FuzzSupport.blackHole(inspector.json(diagnostics: []).rendered())
        guard let output = Decompiler.decompile(blob.policy, map: map, file: "fuzz.bin").0 else { continue }
        // What `decompile` does before it writes: check the XML as `compile` would. It used to write
        // whatever the decompiler printed (docs/fuzzing.md, finding 1).
        FuzzSupport.blackHole(BlobPipelines.verify(output, blob: blob.policy, mapPath: "fuzz.map"))
    }
    return 0
}

/// The conformance corpus's blobs, decoded.
let blobs: [(header: BlobDecoder.Header, policy: BinaryPolicy)] = {
    let directory = FuzzSupport.root + "/Tests/XenPolicyKitTests/Conformance/expected/"
    let names = [
        "mini.xen-3.1", "mini.xen-3.2", "mini.xen-4.1", "xen302-chwall_ste.xen-3.0.2", "xen302-null.xen-3.0.2",
        "xen304-chwall_ste-client_v1.xen-3.0.4", "xen410-xm-test.xen-4.1",
    ]
    return names.map { name in
        guard let bytes = try? InputFile.read(directory + name + ".bin", limit: 1 << 20) else {
            fatalError("fuzz: cannot read \(name).bin")
        }
        let decoded = BlobDecoder.decode(bytes, file: name + ".bin")
        guard let header = decoded.header, let policy = decoded.policy else { fatalError("fuzz: cannot decode \(name).bin") }
        return (header, policy)
    }
}()
