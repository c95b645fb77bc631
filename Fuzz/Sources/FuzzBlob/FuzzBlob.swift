import FuzzSupport
import PolicyEmitter
import PolicyTools

/// Bytes -> the ACM policy blob decoder (the hypervisor's load checks) -> `inspect`'s text and JSON
/// reports of what decoded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let decoded = BlobDecoder.decode(bytes, file: "fuzz.bin")
    guard let header = decoded.header, let policy = decoded.policy else { return 0 }
    let inspector = BlobInspector(file: "fuzz.bin", header: header, policy: policy, map: nil)
    FuzzSupport.blackHole(inspector.text())
    FuzzSupport.blackHole(inspector.json(diagnostics: decoded.diagnostics).rendered())
    return 0
}
